// Prints every config-driven statement case of the ADL LRS conformance suite as JSON (for one suite dir):
// the statements of test/<dir>/configs/*.js, built as the suite builds them (helper.convertTemplate +
// createTestObject), with the status the suite expects. Nothing it prints is kept in the repository.
//
//   cd <lrs-conformance-test-suite checkout, with node_modules installed>
//   node <this file> v1_0_3 > cases.json   (tests/unit/test_validate_suite.py runs it when LRS_CONFORMANCE_SUITE is set)
process.env.EB_NODE_COMMAND = '1';  // keep helper.js from reading a .env file
const dir = process.argv[2];
process.env.DIRECTORY = dir;
const fs = require('fs');
const path = require('path');
const root = process.cwd();
const helper = require(path.join(root, 'test/helper.js'));
const out = [];
for (const file of fs.readdirSync(path.join(root, 'test', dir, 'configs')).sort()) {
  if (!file.endsWith('.js')) continue;
  for (const group of helper.getSingleTestConfiguration(file)) {
    for (const t of group.config || []) {
      let data;
      if (t.templates) {
        const converted = helper.convertTemplate(JSON.parse(JSON.stringify(t.templates)));
        const mock = helper.createTestObject(converted);
        data = mock[Object.keys(mock)[0]];
      } else {
        data = t.json;
      }
      out.push({file: file, name: t.name, expect: t.expect, statement: data === undefined ? null : data});
    }
  }
}
process.stdout.write(JSON.stringify(out));
