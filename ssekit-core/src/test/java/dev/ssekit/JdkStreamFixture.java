package dev.ssekit;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The setup {@link InterruptedSendTest} and {@link SingleConnectionReviewTest} share: JDK {@code
 * HttpServer}s on loopback (virtual-thread executor), whose path {@code /s} starts a stream per
 * request and hands it to the test; clients that send their GET and never read; and the closing of
 * all of it, last opened first. One per test; not thread-safe.
 */
final class JdkStreamFixture {

    /** The body of an 8 KB event: a few hundred fill a loopback connection whose client does not read. */
    static final String FILL = "x".repeat(8 * 1024);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** Closes {@code c} at {@link #close()}, before everything registered earlier. */
    void closeAtEnd(AutoCloseable c) {
        closeables.add(c);
    }

    /** Starts a server with {@code handler} at {@code /s}; returns its loopback address. */
    InetSocketAddress server(HttpHandler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/s", handler);
        server.start();
        closeables.add(() -> {
            server.stop(0);
            executor.shutdownNow();
        });
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getAddress().getPort());
    }

    /**
     * Starts a server whose {@code /s} starts each stream with {@code options} and puts it into the
     * returned queue; {@code address[0]} is set to the server's address.
     */
    BlockingQueue<SseConnection> streams(SseOptions options, InetSocketAddress[] address) throws IOException {
        BlockingQueue<SseConnection> streams = new ArrayBlockingQueue<>(4);
        address[0] = server(exchange -> streams.add(Sse.start(exchange, options)));
        return streams;
    }

    /** A client with a 4 KiB receive buffer that sends {@code GET /s} and never reads (closed at the end). */
    Socket nonReadingClient(InetSocketAddress address) throws IOException {
        Socket client = new Socket();
        closeables.add(client);
        client.setReceiveBufferSize(4096);
        client.connect(address, 5000);
        OutputStream out = client.getOutputStream();
        out.write("GET /s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return client;
    }

    /** Closes everything registered, last first. */
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        closeables.clear();
    }
}
