/** This package's version (package.json's; test/describe-documents.test.ts keeps them equal): `info.version` by default. */
export const PACKAGE_VERSION = '0.1.0';
