package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP server (the JDK's) that answers each request with the next scripted response and
 * records what it was sent, in the manner of OkHttp's MockWebServer. A streamed response stays open
 * and is fed by the test, chunk by chunk.
 */
final class ScriptedServer implements AutoCloseable {

    /** What a request carried. Header values are decoded from UTF-8, as a browser sends them. */
    record Request(String path, Map<String, String> headers, String method, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** A scripted answer. */
    static final class Response {
        int status = 200;
        final Map<String, String> headers = new LinkedHashMap<>();
        String body = "";
        Stream stream;
        CountDownLatch holdHead;

        static Response events(String body) {
            Response r = new Response();
            r.headers.put("Content-Type", "text/event-stream");
            r.body = body;
            return r;
        }

        static Response status(int status) {
            Response r = new Response();
            r.status = status;
            return r;
        }

        Response header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        /** Keeps the response open after the body; the test writes more through the returned stream. */
        Stream streamed() {
            stream = new Stream();
            return stream;
        }

        /** Waits for the latch before sending the head (to test closing while connecting). */
        Response holdHeadUntil(CountDownLatch latch) {
            holdHead = latch;
            return this;
        }
    }

    /** The open end of a streamed response. */
    static final class Stream {
        private final BlockingQueue<String> chunks = new LinkedBlockingQueue<>();
        private final CountDownLatch disconnected = new CountDownLatch(1);
        private final CountDownLatch opened = new CountDownLatch(1);
        private volatile boolean probing;
        private static final String END = new String("<end>");

        void send(String chunk) {
            chunks.add(chunk);
        }

        void end() {
            chunks.add(END);
        }

        void awaitOpen() throws InterruptedException {
            if (!opened.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the stream was not opened within 10 s");
            }
        }

        /**
         * Whether the server saw the client go away within 10 s: from now on the server writes a
         * heartbeat comment every 50 ms, and a failed write is the disconnect.
         */
        boolean awaitDisconnect() throws InterruptedException {
            probing = true;
            return disconnected.await(10, TimeUnit.SECONDS);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final BlockingQueue<Response> script = new LinkedBlockingQueue<>();
    final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();

    ScriptedServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    ScriptedServer enqueue(Response r) {
        script.add(r);
        return this;
    }

    /** Enqueues a response that stays open after its body; the test feeds it. */
    Stream stream(Response r) {
        Stream s = r.streamed();
        script.add(r);
        return s;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    Request takeRequest() throws InterruptedException {
        Request r = requests.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no request within 10 s");
        }
        return r;
    }

    private void handle(HttpExchange exchange) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT),
                new String(v.getFirst().getBytes(ISO_8859_1), UTF_8)));
        requests.add(new Request(exchange.getRequestURI().getPath(), headers, exchange.getRequestMethod(),
                exchange.getRequestBody().readAllBytes()));
        Response r = script.poll();
        try (exchange) {
            if (r == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (r.holdHead != null) {
                r.holdHead.await(10, TimeUnit.SECONDS);
            }
            r.headers.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
            byte[] body = r.body.getBytes(UTF_8);
            exchange.sendResponseHeaders(r.status, r.stream == null ? (body.length == 0 ? -1 : body.length) : 0);
            OutputStream out = exchange.getResponseBody();
            out.write(body);
            out.flush();
            if (r.stream != null) {
                r.stream.opened.countDown();
                stream(r.stream, out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes the test's chunks, and heartbeats once the test waits for a disconnect. */
    private static void stream(Stream s, OutputStream out) throws InterruptedException {
        try {
            while (true) {
                String chunk = s.chunks.poll(50, TimeUnit.MILLISECONDS);
                if (chunk == Stream.END) {
                    return;
                }
                if (chunk == null && !s.probing) {
                    continue;
                }
                out.write((chunk == null ? ":\n" : chunk).getBytes(UTF_8));
                out.flush();
            }
        } catch (IOException gone) {
            s.disconnected.countDown();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
