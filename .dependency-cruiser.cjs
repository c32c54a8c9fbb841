// Import-cycle and layering check run by `npm run lint` (dependency-cruiser).
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make modules load in surprising orders. A Svelte component that renders itself (a tree) is the one allowed recursion.',
      from: { pathNot: '\\.svelte$' },
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      from: { path: '^src/lib/domain', pathNot: '\\.test\\.ts$' },
      to: { path: '^(src/lib/(crdt|persistence|sync|state|components|workers|ml)|src/routes|sync-server|node_modules/(svelte|dexie|yjs|y-|@tensorflow|ws|classic-level|ioredis))' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.svelte-kit|build)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.node.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.svelte'] },
    moduleSystems: ['es6'],
  },
};
