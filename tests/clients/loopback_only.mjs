// loopback_only.mjs - owns binding upstream test servers to 127.0.0.1 only.
// @modelcontextprotocol/server-everything calls app.listen(PORT) with no host, which
// binds every interface; it has no HOST setting. Preload this with `node --import`
// so any listen(port[, cb]) without a host binds 127.0.0.1 instead.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const portOnly = typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]));
  if (portOnly && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  return listen.apply(this, args);
};
