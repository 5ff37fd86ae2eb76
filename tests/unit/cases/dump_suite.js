// Regenerates suite_v1_0_3.json.gz and suite_v2_0.json.gz: every config-driven statement case of the ADL LRS
// conformance suite (test/<dir>/configs/*.js), built exactly as the suite builds it (helper.convertTemplate +
// createTestObject), with the status the suite expects. Used by tests/unit/test_validate_suite.py.
//
//   cd <lrs-conformance-test-suite checkout, with node_modules installed>
//   node <this file> v1_0_3 | gzip -9n > <repo>/tests/unit/cases/suite_v1_0_3.json.gz
//   node <this file> v2_0   | gzip -9n > <repo>/tests/unit/cases/suite_v2_0.json.gz
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
