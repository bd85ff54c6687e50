import { CsvRecordSplitter } from '/work/main/src/ingest/readers/csv-record-splitter.js';
function run(max: number, parts: string[]) { const s = new CsvRecordSplitter(max); const out = []; for (const p of parts) out.push(...s.push(p)); out.push(...s.end()); return out; }
console.log(run(20, ['a,b\n"' + 'x'.repeat(40) + '\ny",c\nd,e\n']));
console.log(run(20, ['a,b\n' + 'x'.repeat(40) + '\nd,e\n']));
console.log(run(20, ['a,b\n"', 'x'.repeat(10), 'x'.repeat(30) + '\ny",c\nd,e\n']));
console.log(run(20, ['a,b\n"x\nq"z,1\nd,e\n']));
console.log(run(20, ['a,b\n"x"z,1\nd,e\n']));
console.log(run(1000, ['a,"b', '"', '"c"\n']));
console.log(run(1000, ['a,"b"', '"c"\n']));
