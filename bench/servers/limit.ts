import { OK_BODY, OK_HEADERS, serve } from './serve.js';
import { verifyAndParse } from './verify.js';

// The limit: the body read by hand into one Buffer, then HMAC + JSON.parse (verify.ts).
serve((ran) => (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (!verifyAndParse(req, body)) {
      res.writeHead(401).end();
      return;
    }
    ran();
    res.writeHead(200, OK_HEADERS).end(OK_BODY);
  });
});
