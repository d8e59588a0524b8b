// The scheduled drift check's memory: one open issue, opened on the first failing run and updated
// (body replaced, a comment added) by every later failing run, so drift is tracked in one place.
// A clean run comments on the open issue that the environments are clean again, and closes it.
// Called from actions/github-script:
//   await require('./.github/scripts/drift-issue.cjs')({github, context, core, failed, sections})
'use strict';

const { renderBody } = require('./sticky-comment.cjs');

const MARKER = 'hyphae:scheduled-drift';
const TITLE = 'Drift: an environment differs from the repository';

async function findOpenIssue({ github, context }) {
  const issues = await github.paginate(github.rest.issues.listForRepo, {
    owner: context.repo.owner,
    repo: context.repo.repo,
    state: 'open',
    per_page: 100,
  });
  return issues.find((issue) => !issue.pull_request && (issue.body || '').startsWith(`<!-- ${MARKER} -->`));
}

module.exports = async function reportDrift({ github, context, core, failed, sections }) {
  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  const repo = { owner: context.repo.owner, repo: context.repo.repo };
  const open = await findOpenIssue({ github, context });
  if (!failed) {
    if (open) {
      await github.rest.issues.createComment({ ...repo, issue_number: open.number, body: `Clean again in [this run](${runUrl}).` });
      await github.rest.issues.update({ ...repo, issue_number: open.number, state: 'closed' });
      core.info(`closed issue #${open.number}: no drift`);
    }
    return;
  }
  const body = renderBody({ marker: MARKER, title: TITLE, sections, runUrl });
  if (open) {
    await github.rest.issues.update({ ...repo, issue_number: open.number, body });
    await github.rest.issues.createComment({ ...repo, issue_number: open.number, body: `Still failing in [this run](${runUrl}): ${failed}` });
    core.info(`updated issue #${open.number}`);
  } else {
    const created = await github.rest.issues.create({ ...repo, title: TITLE, body, labels: ['drift'] });
    core.info(`opened issue #${created.data.number}`);
  }
  core.setFailed(failed);
};
