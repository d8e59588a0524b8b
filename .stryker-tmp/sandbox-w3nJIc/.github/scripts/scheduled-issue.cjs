// @ts-nocheck
// A scheduled check's memory: one open issue per check (found by a hidden marker), opened on the
// first failing run and updated (body replaced, a comment added) by every later failing run, so a
// failure is tracked in one place. A clean run comments that it is clean again and closes it.
// The drift check (drift-issue.cjs) and the nightly backup (backup.yml) use it. Called from
// actions/github-script:
//   await require('./.github/scripts/scheduled-issue.cjs')({github, context, core, failed, sections,
//                                                           marker, title, label})
// `failed` is '' for a clean run, else what failed (the step is then marked failed too);
// `sections` are rendered as sticky-comment.cjs renders them.
'use strict';

const { renderBody } = require('./sticky-comment.cjs');

async function findOpenIssue({ github, context, marker }) {
  const issues = await github.paginate(github.rest.issues.listForRepo, {
    owner: context.repo.owner,
    repo: context.repo.repo,
    state: 'open',
    per_page: 100,
  });
  return issues.find((issue) => !issue.pull_request && (issue.body || '').startsWith(`<!-- ${marker} -->`));
}

module.exports = async function reportScheduledCheck({ github, context, core, failed, sections, marker, title, label }) {
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const repo = { owner: context.repo.owner, repo: context.repo.repo };
  const open = await findOpenIssue({ github, context, marker });
  if (!failed) {
    if (open) {
      await github.rest.issues.createComment({ ...repo, issue_number: open.number, body: `Clean again in [this run](${runUrl}).` });
      await github.rest.issues.update({ ...repo, issue_number: open.number, state: 'closed' });
      core.info(`closed issue #${open.number}: ${label} is clean again`);
    }
    return;
  }
  const body = renderBody({ marker, title, sections, runUrl });
  if (open) {
    await github.rest.issues.update({ ...repo, issue_number: open.number, body });
    await github.rest.issues.createComment({ ...repo, issue_number: open.number, body: `Still failing in [this run](${runUrl}): ${failed}` });
    core.info(`updated issue #${open.number}`);
  } else {
    const created = await github.rest.issues.create({ ...repo, title, body, labels: [label] });
    core.info(`opened issue #${created.data.number}`);
  }
  core.setFailed(failed);
};
