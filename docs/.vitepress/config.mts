import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';

const docs = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

// The two contract files stay in docs/ (tools and tests read them there); the site serves copies
// from public/, made here so that `docs:dev` and `docs:build` both have them.
mkdirSync(docs('public'), { recursive: true });
for (const file of ['openapi.json', 'events.schema.json']) copyFileSync(docs(file), docs(`public/${file}`));

// Written by TypeDoc (`npm run docs:api`) before VitePress runs: one page per import path, listed
// flat under their full names ('aicommerce-webhooks/redis'), as users import them.
const typedocSidebar = JSON.parse(readFileSync(docs('api/typedoc-sidebar.json'), 'utf8')) as DefaultTheme.SidebarItem[];
const apiSidebar: DefaultTheme.SidebarItem[] = typedocSidebar.flatMap(({ text, link, items = [] }) => [
  { text, link },
  ...items.map((item) => ({ text: `${text}/${item.text}`, link: item.link })),
]);

// Pages that other work adds: each appears in the sidebar once its file exists.
const ifPage = (text: string, link: string): DefaultTheme.SidebarItem[] =>
  existsSync(docs(`${link.slice(1)}.md`)) ? [{ text, link }] : [];

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guide',
    items: [
      { text: 'Getting started', link: '/getting-started' },
      { text: 'The receiver', link: '/receiver' },
      { text: 'Answers and status codes', link: '/status-codes' },
      { text: 'Frameworks and runtimes', link: '/frameworks' },
      { text: 'Retries, duplicates and replays', link: '/retries' },
      { text: 'Inline or queued', link: '/queued' },
      { text: 'Queued mode in production', link: '/queued-production' },
      ...ifPage('Latest wins', '/latest-wins'),
      ...ifPage('While you build: the inspector', '/inspector'),
      { text: 'Testing your handlers', link: '/testing' },
    ],
  },
  {
    text: 'Reference',
    items: [
      { text: 'CLI', link: '/cli' },
      { text: 'Describe: OpenAPI and JSON Schema', link: '/describe' },
      { text: 'Observe: traces, metrics, logs', link: '/observe' },
      { text: 'Security', link: '/security' },
      { text: 'API reference', link: '/api/' },
    ],
  },
  {
    text: 'The project',
    items: [
      { text: 'Performance', link: '/performance' },
      { text: 'Decisions', link: '/decisions' },
      { text: 'Architecture', link: '/architecture' },
      { text: 'Changelog', link: '/changelog' },
    ],
  },
];

export default defineConfig({
  title: 'aicommerce-webhooks',
  description: 'Receive AICommerce webhooks in Node.js: verified, validated, typed, inline or queued.',
  lang: 'en',
  srcExclude: ['typedoc/**'],
  // Everything the site needs is in the build: no web fonts or scripts from elsewhere.
  head: [
    ['meta', { name: 'color-scheme', content: 'light dark' }],
    ['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
    ['link', { rel: 'icon', href: '/favicon.ico', sizes: '32x32' }], // also what browsers ask for on the JSON files
  ],
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/getting-started' },
      { text: 'CLI', link: '/cli' },
      { text: 'API', link: '/api/' },
      { text: 'Changelog', link: '/changelog' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/', items: apiSidebar }, ...guide],
      '/': guide,
    },
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    footer: { message: 'MIT licensed.' },
  },
});
