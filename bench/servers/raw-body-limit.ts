import getRawBody from 'raw-body';
import { OK_BODY, OK_HEADERS, serve } from './serve.js';
import { verifyAndParse } from './verify.js';

// The limit as body-parser builds it: the body read by raw-body (with a limit and the declared
// length, as our reader calls it), then the same HMAC + JSON.parse as the hand-read limit.
const LIMIT = 1024 * 1024;

serve((ran) => (req, res) => {
  getRawBody(req, { limit: LIMIT, length: req.headers['content-length'] ?? null }, (error, body) => {
    if (error) {
      res.writeHead(error.status, { connection: 'close' }).end();
      return;
    }
    if (!verifyAndParse(req, body)) {
      res.writeHead(401).end();
      return;
    }
    ran();
    res.writeHead(200, OK_HEADERS).end(OK_BODY);
  });
});
