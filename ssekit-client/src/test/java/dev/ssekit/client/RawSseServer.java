package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A raw-socket HTTP/1.1 server: it records each request head byte for byte (no header parsing of a
 * library in between, which might fold a TAB to a space) and answers with the next scripted
 * response verbatim, then closes the connection. Requests without a script get a 404.
 */
final class RawSseServer implements AutoCloseable {
    private final ServerSocket socket;
    private final BlockingQueue<String> script = new LinkedBlockingQueue<>();
    /** The request heads, as ISO-8859-1 text (one char per byte). */
    final BlockingQueue<String> heads = new LinkedBlockingQueue<>();
    private final Thread acceptor;

    RawSseServer() throws IOException {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofVirtual().name("raw-sse-server").start(this::accept);
    }

    /** Answers the next request with 200 text/event-stream and {@code body}, then closes. */
    RawSseServer events(String body) {
        byte[] b = body.getBytes(UTF_8);
        script.add("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " + b.length
                + "\r\nConnection: close\r\n\r\n" + new String(b, ISO_8859_1));
        return this;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + socket.getLocalPort() + path);
    }

    /** The next request head, within 10 s. */
    String takeHead() throws InterruptedException {
        String h = heads.poll(10, TimeUnit.SECONDS);
        if (h == null) {
            throw new AssertionError("no request within 10 s");
        }
        return h;
    }

    /** The value of header {@code name} in {@code head} as the bytes on the wire, or null. */
    static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                String v = line.substring(colon + 1);
                return v.startsWith(" ") ? v.substring(1) : v;
            }
        }
        return null;
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                head.write(c);
                byte[] h = head.toByteArray();
                int n = h.length;
                if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                    break;
                }
            }
            heads.add(head.toString(ISO_8859_1));
            String answer = script.poll();
            if (answer == null) {
                answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            }
            s.getOutputStream().write(answer.getBytes(ISO_8859_1));
            s.getOutputStream().flush();
        } catch (IOException e) {
            // the client went away
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        acceptor.interrupt();
    }
}
