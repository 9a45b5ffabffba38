package dev.ssekit.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback in front of redis-server, for faults a real network makes: it can hold
 * all traffic ({@link #pause()}, like a node stopped with {@code kill -STOP}), or drop a
 * connection right after forwarding an append script ({@code EVALSHA}/{@code EVAL}) and before its
 * reply ({@link #dropAfterAppend}; an append is told by the idempotency key it names), then hold new connections until {@link #pass()}. One platform
 * thread per direction per connection: for a handful of connections. It can also cut the link
 * ({@link #cut()}): every connection closed, new ones closed at once, so the client's commands fail
 * fast and none is held to run late.
 */
final class RedisProxy implements AutoCloseable {

    enum Mode { PASS, PAUSED, DROP_AFTER_APPEND, CUT }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile Mode mode = Mode.PASS;
    /** After a drop: new connections are held (accepted, nothing forwarded) until {@link #pass()}. */
    private volatile boolean holdAfterDrop;
    private volatile int drops;

    private RedisProxy(ServerSocket server, InetSocketAddress target) {
        this.server = server;
        this.target = target;
    }

    static RedisProxy start(int redisPort) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        RedisProxy p = new RedisProxy(server, new InetSocketAddress(InetAddress.getLoopbackAddress(), redisPort));
        Thread.ofPlatform().daemon().name("redis-proxy-accept").start(p::accept);
        return p;
    }

    String uri() {
        return "redis://127.0.0.1:" + server.getLocalPort();
    }

    /** Nothing moves in either direction until {@link #pass()}; nothing is closed. */
    void pause() {
        mode = Mode.PAUSED;
    }

    /**
     * Closes every connection and, until {@link #pass()}, each new one as soon as it is accepted: the
     * client finds Redis gone (nothing held, so no command sent before runs late once the link is back).
     */
    void cut() throws IOException {
        mode = Mode.CUT;
        for (Socket s : sockets) {
            s.close();
        }
        sockets.clear();
    }

    /** Forward everything again. */
    synchronized void pass() {
        mode = Mode.PASS;
        notifyAll();
    }

    /**
     * The next client chunk carrying an append script is forwarded, then that connection is closed
     * before Redis's reply can come back; with {@code thenHold}, connections made afterwards are
     * held (nothing forwarded) until {@link #pass()}, so the client's command times out.
     */
    void dropAfterAppend(boolean thenHold) {
        holdAfterDrop = thenHold;
        mode = Mode.DROP_AFTER_APPEND;
    }

    int drops() {
        return drops;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (mode == Mode.CUT) {
                    client.close();
                    continue;
                }
                Socket upstream = new Socket();
                upstream.connect(target, 2000);
                sockets.add(client);
                sockets.add(upstream);
                if (mode == Mode.CUT) { // cut() ran meanwhile
                    client.close();
                    upstream.close();
                    continue;
                }
                Thread.ofPlatform().daemon().name("redis-proxy-up").start(() -> pump(client, upstream, true));
                Thread.ofPlatform().daemon().name("redis-proxy-down").start(() -> pump(upstream, client, false));
            } catch (IOException e) {
                // closed, or Redis not there: the client sees its connection end
            }
        }
    }

    private void waitWhileHeld() throws InterruptedException {
        synchronized (this) {
            while (mode == Mode.PAUSED) {
                wait(100);
            }
        }
    }

    private void pump(Socket from, Socket to, boolean clientToRedis) {
        byte[] buffer = new byte[8192];
        try (from; to) {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0;) {
                waitWhileHeld();
                out.write(buffer, 0, n);
                out.flush();
                if (clientToRedis && mode == Mode.DROP_AFTER_APPEND && isAppend(buffer, n)) {
                    drops++;
                    mode = holdAfterDrop ? Mode.PAUSED : Mode.PASS;
                    Thread.sleep(200); // let Redis run it; its reply then finds the client gone
                    return; // closes both: the client's command was sent, its answer never comes
                }
            }
        } catch (IOException | InterruptedException e) {
            // a side closed
        }
    }

    private static boolean isAppend(byte[] b, int n) {
        String s = new String(b, 0, n, StandardCharsets.ISO_8859_1).toUpperCase(java.util.Locale.ROOT);
        // the append script, not the reader's check script: only appends name an idempotency key
        return (s.contains("EVALSHA") || s.contains("\r\nEVAL\r\n")) && s.contains(":IDEM:");
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (this) {
            mode = Mode.PASS;
            notifyAll();
        }
        for (Socket s : sockets) {
            s.close();
        }
    }
}
