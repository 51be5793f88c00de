// Compiles contracts/*.sol with the pinned solc-js into contracts/artifacts/<Name>.json
// ({ contractName, compiler, abi, bytecode, deployedBytecode }), deterministically.
// Run through scripts/compile-contracts; `--check` recompiles in memory and fails if any
// committed artifact differs (CI), writing nothing.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const PINNED = '0.8.37';
const root = path.resolve(__dirname, '..');
const srcDir = path.join(root, 'contracts');
const outDir = path.join(srcDir, 'artifacts');
const check = process.argv.includes('--check');

const version = solc.version();
if (!version.startsWith(PINNED + '+')) {
  console.error(`compile-contracts: expected solc ${PINNED}, found ${version}; run scripts/install-npm`);
  process.exit(1);
}

// Settings are part of the artifact: changing any of them changes the bytecode.
const settings = {
  optimizer: { enabled: true, runs: 10000 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};
const sources = {};
for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[`contracts/${f}`] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
}
const out = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings })));
const errors = (out.errors || []).filter((e) => e.severity === 'error');
for (const e of out.errors || []) console.error(e.formattedMessage);
if (errors.length > 0 || (out.errors || []).length > 0) {
  console.error('compile-contracts: compiler errors or warnings (warnings are errors here)');
  process.exit(1);
}

let differ = 0;
const expected = new Set();
for (const [file, contracts] of Object.entries(out.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = {
      contractName: name,
      sourceName: file,
      compiler: { version, settings: { optimizer: settings.optimizer, evmVersion: settings.evmVersion } },
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
    const text = JSON.stringify(artifact, null, 2) + '\n';
    const target = path.join(outDir, `${name}.json`);
    expected.add(`${name}.json`);
    const old = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (old === text) continue;
    if (check) {
      console.error(`compile-contracts: contracts/artifacts/${name}.json is stale; run scripts/compile-contracts`);
      differ++;
    } else {
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(target, text);
      console.log(`compile-contracts: wrote contracts/artifacts/${name}.json`);
    }
  }
}
if (fs.existsSync(outDir)) {
  for (const f of fs.readdirSync(outDir).filter((f) => f.endsWith('.json') && !expected.has(f))) {
    console.error(`compile-contracts: contracts/artifacts/${f} has no source`);
    differ++;
  }
}
if (differ > 0) process.exit(1);
console.log(check ? 'compile-contracts: artifacts up to date' : 'compile-contracts: ok');
