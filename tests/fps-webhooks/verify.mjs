// Verifies Bauhinia's webhook deliveries with the official Standard Webhooks library.
// stdin: {"secret": "whsec_…", "deliveries": [{"headers": {…}, "body": "…"}]}
// stdout: [{"ok": true} | {"ok": false, "error": "…"}] in the same order.
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secret, deliveries } = JSON.parse(input);
const wh = new Webhook(secret);
const results = deliveries.map(({ headers, body }) => {
  try {
    wh.verify(body, headers, { jsonParse: false });
    return { ok: true };
  } catch (e) {
    return { ok: false, error: String(e.message || e) };
  }
});
process.stdout.write(JSON.stringify(results));
