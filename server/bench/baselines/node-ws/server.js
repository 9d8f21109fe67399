// Baseline for the benchmark: what many teams would write with Node.js and `ws`.
// Every text frame any client sends is sent to every connected client. No auth, no storage.
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 9002);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client.readyState === 1) client.send(data, { binary: isBinary });
    }
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`node ws broadcast listening on ${port}`));
