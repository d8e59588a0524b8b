// @ts-nocheck
// The scheduled drift check's issue: scheduled-issue.cjs with drift's marker, title and label.
// Called from actions/github-script:
//   await require('./.github/scripts/drift-issue.cjs')({github, context, core, failed, sections})
'use strict';

const reportScheduledCheck = require('./scheduled-issue.cjs');

module.exports = async function reportDrift(args) {
  await reportScheduledCheck({
    ...args,
    marker: 'hyphae:scheduled-drift',
    title: 'Drift: an environment differs from the repository',
    label: 'drift',
  });
};
