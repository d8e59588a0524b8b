// One pull-request comment per report, created once and updated by every later run.
// (.cjs: the repository's package.json says "type": "module", and github-script `require`s this.)
// The comment is found by a hidden HTML marker on its first line, so reruns, new pushes and other
// bots' comments never produce a second copy. Called from actions/github-script:
//   await require('./.github/scripts/sticky-comment.cjs')({github, context, core, marker, title, sections, failed})
// `sections` is a list of {heading, path, fenced}: each file's text goes under its heading, in a
// code fence when `fenced` (pulumi and plan output), as is otherwise (markdown reports).
'use strict';

const fs = require('fs');

// GitHub refuses comment bodies above 65,536 characters; keep room for the marker and headings.
const MAX_SECTION_CHARS = 20000;

function readSection({ heading, path, fenced }) {
  let text;
  try {
    text = fs.readFileSync(path, 'utf8').trim();
  } catch (error) {
    text = `(no output: ${path} was not written; see the job log)`;
  }
  if (text.length > MAX_SECTION_CHARS) {
    text = text.slice(0, MAX_SECTION_CHARS) + '\n... (truncated; the full output is in the job log)';
  }
  const content = fenced ? '```\n' + text + '\n```' : text;
  return heading ? `### ${heading}\n\n${content}` : content;
}

function renderBody({ marker, title, sections, runUrl }) {
  const parts = [`<!-- ${marker} -->`, `## ${title}`];
  for (const section of sections) parts.push(readSection(section));
  parts.push(`<sub>Updated by [this run](${runUrl}).</sub>`);
  return parts.join('\n\n');
}

async function findComment({ github, context, marker }) {
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner: context.repo.owner,
    repo: context.repo.repo,
    issue_number: context.issue.number,
    per_page: 100,
  });
  return comments.find((comment) => (comment.body || '').startsWith(`<!-- ${marker} -->`));
}

module.exports = async function upsertComment({ github, context, core, marker, title, sections, failed }) {
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const body = renderBody({ marker, title, sections, runUrl });
  const existing = await findComment({ github, context, marker });
  if (existing) {
    await github.rest.issues.updateComment({
      owner: context.repo.owner,
      repo: context.repo.repo,
      comment_id: existing.id,
      body,
    });
    core.info(`updated comment ${existing.id} (${marker})`);
  } else {
    const created = await github.rest.issues.createComment({
      owner: context.repo.owner,
      repo: context.repo.repo,
      issue_number: context.issue.number,
      body,
    });
    core.info(`created comment ${created.data.id} (${marker})`);
  }
  if (failed) core.setFailed(failed);
};

module.exports.renderBody = renderBody;
