// Probot's webhook layer: @octokit/webhooks verifies the signature, parses and dispatches.
import { createServer } from "node:http";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";

const webhooks = new Webhooks({ secret: process.env.WEBHOOK_SECRET });
webhooks.onAny(() => {});
const middleware = createNodeMiddleware(webhooks, { path: "/webhooks/github" });
createServer(middleware).listen(Number(process.env.PORT), "127.0.0.1");
