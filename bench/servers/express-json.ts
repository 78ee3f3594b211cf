import express from 'express';
import { WEBHOOK_PATH } from '../constants.js';
import { serve } from './serve.js';

// What many users write first: parse the JSON, verify nothing.
serve((ran) =>
  express().post(WEBHOOK_PATH, express.json(), (_req, res) => {
    ran();
    res.json({ received: true });
  }),
);
