// @ts-nocheck
// Runs .github/scripts/*.cjs against an in-memory GitHub (comments and issues of one repository),
// the way actions/github-script calls them. Usage: node github_fake.cjs SCENARIO.json
// SCENARIO: {script, state: {comments: [], issues: []}, runs: [{...arguments}], cwd}
// Prints {state, failures, logs} as JSON. A stand-in for GitHub's REST API only; the scripts run
// unchanged.
'use strict';

const fs = require('fs');
const path = require('path');

const scenario = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const state = scenario.state;
let nextId = 1000;

const rest = {
  issues: {
    listComments: async ({ issue_number }) => ({ data: state.comments.filter((c) => c.issue_number === issue_number) }),
    createComment: async ({ issue_number, body }) => {
      const comment = { id: nextId++, issue_number, body, user: { type: 'Bot' } };
      state.comments.push(comment);
      return { data: comment };
    },
    deleteComment: async ({ comment_id }) => {
      state.comments = state.comments.filter((c) => c.id !== comment_id);
      return { data: {} };
    },
    updateComment: async ({ comment_id, body }) => {
      const comment = state.comments.find((c) => c.id === comment_id);
      comment.body = body;
      return { data: comment };
    },
    listForRepo: async ({ state: wanted }) => ({ data: state.issues.filter((i) => i.state === wanted) }),
    create: async ({ title, body, labels }) => {
      const issue = { number: nextId++, title, body, labels, state: 'open' };
      state.issues.push(issue);
      return { data: issue };
    },
    update: async ({ issue_number, ...fields }) => {
      const issue = state.issues.find((i) => i.number === issue_number);
      for (const key of ['body', 'state', 'title']) if (key in fields) issue[key] = fields[key];
      return { data: issue };
    },
  },
};

const github = { rest, paginate: async (method, params) => (await method(params)).data };
const context = {
  serverUrl: 'https://github.com',
  runId: 42,
  repo: { owner: 'myco', repo: 'hyphae' },
  issue: { number: 7 },
};
const failures = [];
const logs = [];
const core = { info: (m) => logs.push(m), setFailed: (m) => failures.push(m) };

(async () => {
  process.chdir(scenario.cwd);
  const script = require(path.resolve(scenario.script));
  for (const run of scenario.runs) {
    await script({ github, context, core, ...run });
  }
  process.stdout.write(JSON.stringify({ state, failures, logs }));
})().catch((error) => {
  process.stderr.write(String(error.stack || error));
  process.exit(1);
});
