// Express 4 installed under an npm alias, so one suite can run against Express 4 and 5.
declare module 'express4' {
  import express from 'express';
  export default express;
}
