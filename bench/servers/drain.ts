import { OK_BODY, OK_HEADERS, serve } from './serve.js';

// The ceiling: read the body and answer, nothing else.
const ignore = (): void => {};

serve((ran) => (req, res) => {
  req.on('data', ignore);
  req.on('end', () => {
    ran();
    res.writeHead(200, OK_HEADERS).end(OK_BODY);
  });
});
