// @ts-nocheck
// One pull-request comment per report, created once and updated by every later run.
// (.cjs: the repository's package.json says "type": "module", and github-script `require`s this.)
// The comment is found by a hidden HTML marker on its first line, so reruns, new pushes and other
// bots' comments never produce a second copy. Called from actions/github-script, either with the
// whole comment in one file (`invoke review --format markdown` writes it, marker first):
//   await require('./.github/scripts/sticky-comment.cjs')({github, context, core, marker, body, replaces, failed})
// or assembled from files:
//   await require('./.github/scripts/sticky-comment.cjs')({github, context, core, marker, title, sections, failed})
// `sections` is a list of {heading, path, fenced}: each file's text goes under its heading, in a
// code fence when `fenced` (pulumi and plan output), as is otherwise (markdown reports).
// `replaces` lists the markers of comments this one supersedes: they are deleted.
'use strict';

const fs = require('fs');

// GitHub refuses comment bodies above 65,536 characters; keep room for the marker and headings.
const MAX_SECTION_CHARS = 20000;
const MAX_COMMENT_CHARS = 65536;

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

// The file is the comment (it starts with the marker); a missing or foreign file is said instead.
function readBody({ marker, body, failed, runUrl }) {
  const head = `<!-- ${marker} -->`;
  let text = '';
  try {
    text = fs.readFileSync(body, 'utf8');
  } catch (error) {
    text = '';
  }
  if (!text.startsWith(head)) {
    text = `${head}\n(no review: ${body} was not written; see [the run](${runUrl}))\n`;
  }
  if (failed) text += `\n> ⚠️ ${failed}: see [the run](${runUrl}).\n`;
  if (text.length > MAX_COMMENT_CHARS) {
    const note = `\n... (cut at GitHub's limit; the full text is in [the run's summary](${runUrl}))\n`;
    text = text.slice(0, MAX_COMMENT_CHARS - note.length) + note;
  }
  return text;
}

async function listComments({ github, context }) {
  return github.paginate(github.rest.issues.listComments, {
    owner: context.repo.owner,
    repo: context.repo.repo,
    issue_number: context.issue.number,
    per_page: 100,
  });
}

async function findComment({ github, context, marker }) {
  const comments = await listComments({ github, context });
  return comments.find((comment) => (comment.body || '').startsWith(`<!-- ${marker} -->`));
}

async function deleteReplaced({ github, context, core, replaces }) {
  const heads = (replaces || []).map((old) => `<!-- ${old} -->`);
  if (!heads.length) return;
  for (const comment of await listComments({ github, context })) {
    if (heads.some((head) => (comment.body || '').startsWith(head))) {
      await github.rest.issues.deleteComment({ owner: context.repo.owner, repo: context.repo.repo, comment_id: comment.id });
      core.info(`deleted comment ${comment.id}, superseded by this one`);
    }
  }
}

module.exports = async function upsertComment({ github, context, core, marker, title, sections, body: bodyPath, replaces, failed }) {
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const body = bodyPath ? readBody({ marker, body: bodyPath, failed, runUrl }) : renderBody({ marker, title, sections, runUrl });
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
  await deleteReplaced({ github, context, core, replaces });
  if (failed) core.setFailed(failed);
};

module.exports.renderBody = renderBody;
