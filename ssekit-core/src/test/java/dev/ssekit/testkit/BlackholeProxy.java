package dev.ssekit.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback that can turn into a black hole: after {@link #blackhole()} it stops
 * reading and writing on every connection but keeps the sockets open, so neither end ever sees a
 * FIN or a reset; like a client whose network vanished. Small socket buffers make the stall show
 * quickly. One platform thread per direction per connection: for a handful of connections.
 */
public final class BlackholeProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean blackholed;

    private BlackholeProxy(ServerSocket server, InetSocketAddress target) {
        this.server = server;
        this.target = target;
    }

    /**
     * Starts a proxy to {@code target} on an ephemeral loopback port.
     *
     * @param target where to forward
     * @return the running proxy
     * @throws IOException if it cannot listen
     */
    public static BlackholeProxy start(InetSocketAddress target) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        BlackholeProxy p = new BlackholeProxy(server, target);
        Thread.ofPlatform().daemon().name("blackhole-accept").start(p::accept);
        return p;
    }

    /**
     * Where clients connect.
     *
     * @return the proxy's address
     */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    /** From now on nothing moves in either direction, and nothing is closed. */
    public void blackhole() {
        blackholed = true;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.setReceiveBufferSize(8 * 1024); // small: the server's writes stall soon after the hole opens
                upstream.connect(target);
                client.setSendBufferSize(8 * 1024);
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread.ofPlatform().daemon().name("blackhole-pump").start(() -> {
            byte[] buf = new byte[1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (true) {
                    if (blackholed) {
                        Thread.sleep(50); // hold the sockets open; read nothing, write nothing
                        continue;
                    }
                    int n = in.read(buf);
                    if (n < 0) {
                        to.shutdownOutput();
                        return;
                    }
                    if (!blackholed) {
                        out.write(buf, 0, n);
                    }
                }
            } catch (IOException | InterruptedException e) {
                // a socket closed: this direction is done
            }
        });
    }

    /** Closes every socket and stops accepting. */
    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
