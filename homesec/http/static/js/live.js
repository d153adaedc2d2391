// A WebSocket to homesec that reconnects after 1, 2, 4 ... seconds, at most 30 (with some
// jitter, so many tabs do not come back at once), and back to 1 once it is open again. The
// session cookie goes with the handshake; a 1008 close means the session ended: reload, so
// the login page comes.
export function connectWithBackoff(path, { onMessage, onState }) {
  let delay = 1000;
  const open = () => {
    const url = new URL(path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    socket.onopen = () => { delay = 1000; onState(true); };
    socket.onmessage = (message) => onMessage(JSON.parse(message.data));
    socket.onclose = (closing) => {
      onState(false);
      if (closing.code === 1008) { location.reload(); return; }
      setTimeout(open, delay * (0.8 + Math.random() * 0.4));
      delay = Math.min(delay * 2, 30000);
    };
  };
  open();
}
