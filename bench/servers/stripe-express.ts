import express from 'express';
import Stripe from 'stripe';
import { SECRET, WEBHOOK_PATH } from '../constants.js';
import { serve } from './serve.js';

// Stripe's documented recipe: express.raw, then constructEvent.
const stripe = new Stripe('sk_test_bench');
serve((ran) =>
  express().post(WEBHOOK_PATH, express.raw({ type: 'application/json' }), (req, res) => {
    try {
      stripe.webhooks.constructEvent(req.body as Buffer, req.headers['stripe-signature'] as string, SECRET);
    } catch {
      res.status(400).json({ error: 'Invalid signature' });
      return;
    }
    ran();
    res.json({ received: true });
  }),
);
