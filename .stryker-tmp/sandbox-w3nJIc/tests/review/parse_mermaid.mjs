// @ts-nocheck
// Parses mermaid diagrams with mermaid's own parser (the npm package pinned in package.json), as
// GitHub's renderer would before drawing them. Reads a JSON list of diagram texts on stdin and
// prints a JSON list of {ok, type, error}, one per diagram. `mermaid.parse` needs no browser: it
// runs the diagram's grammar and fills its model without laying anything out.
import mermaid from 'mermaid';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const diagrams = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const results = [];
for (const text of diagrams) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ ok: true, type: parsed.diagramType, error: null });
  } catch (error) {
    results.push({ ok: false, type: null, error: String(error.message || error).split('\n').slice(0, 4).join(' | ') });
  }
}
process.stdout.write(JSON.stringify(results));
