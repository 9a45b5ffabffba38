package dev.ssekit.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Executors;

/**
 * The port of V's {@code examples/veb/server_sent_events}: {@code GET /} serves a page whose
 * {@code EventSource('/sse')} lists what arrives; {@code GET /sse} sends {@code data: ok}, then an
 * event {@code ping} with {@code {"time": …, "random_id": …}} every second until the client leaves.
 *
 * <p>Run it with {@code bin/demo}; {@code --listen HOST:PORT} or {@code SSEKIT_LISTEN} moves it
 * from the default {@code 127.0.0.1:8080}.
 */
public final class ClockServer {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

    private ClockServer() {
    }

    /**
     * Creates and starts the server.
     *
     * @param address where to listen
     * @param interval time between two pings
     * @return the started server; stop it with {@link HttpServer#stop(int)}
     * @throws IOException if the address cannot be bound
     */
    public static HttpServer start(InetSocketAddress address, Duration interval) throws IOException {
        HttpServer server = HttpServer.create(address, 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        byte[] page = indexPage();
        server.createContext("/", exchange -> {
            try (exchange) {
                if (!exchange.getRequestURI().getPath().equals("/")) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
                exchange.sendResponseHeaders(200, page.length);
                exchange.getResponseBody().write(page);
            }
        });
        server.createContext("/sse", exchange -> stream(exchange, interval));
        server.start();
        return server;
    }

    private static void stream(HttpExchange exchange, Duration interval) throws IOException {
        try (SseConnection sse = Sse.start(exchange)) {
            sse.send(SseMessage.of("ok"));
            while (true) {
                Thread.sleep(interval);
                String json = "{\"time\": \"" + LocalDateTime.now().format(TIME) + "\", \"random_id\": \"" + ulid() + "\"}";
                sse.send(SseMessage.builder().event("ping").data(json).build());
            }
        } catch (IOException clientLeft) {
            // the browser closed the page: the stream is over, nothing to report
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A ULID (as the reference example sends): 48 bits of milliseconds, 80 random bits, Crockford base32. */
    static String ulid() {
        char[] out = new char[26];
        long time = System.currentTimeMillis();
        for (int i = 9; i >= 0; i--) {
            out[i] = CROCKFORD[(int) (time & 31)];
            time >>>= 5;
        }
        byte[] random = new byte[10];
        RANDOM.nextBytes(random);
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 5; i++) {
            hi = (hi << 8) | (random[i] & 0xFF);
            lo = (lo << 8) | (random[i + 5] & 0xFF);
        }
        for (int i = 25; i >= 18; i--) {
            out[i] = CROCKFORD[(int) (lo & 31)];
            lo >>>= 5;
        }
        for (int i = 17; i >= 10; i--) {
            out[i] = CROCKFORD[(int) (hi & 31)];
            hi >>>= 5;
        }
        return new String(out);
    }

    private static byte[] indexPage() {
        try (InputStream in = ClockServer.class.getResourceAsStream("index.html")) {
            if (in == null) {
                throw new IllegalStateException("index.html is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses {@code HOST:PORT} (IPv6 hosts in brackets).
     *
     * @throws IllegalArgumentException naming the setting and the value when it is malformed
     */
    static InetSocketAddress listenAddress(String setting, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(setting + " must be HOST:PORT, got \"" + value + "\"");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(setting + " has a port that is not a number: \"" + value + "\"", e);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(setting + " has a port outside 0-65535: \"" + value + "\"");
        }
        return new InetSocketAddress(host, port);
    }

    /**
     * Starts the demo.
     *
     * @param args {@code --listen HOST:PORT}, or {@code --help}
     * @throws IOException if the address cannot be bound
     */
    public static void main(String[] args) throws IOException {
        String setting = "SSEKIT_LISTEN";
        String listen = System.getenv().getOrDefault("SSEKIT_LISTEN", "127.0.0.1:8080");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--listen" -> {
                    if (i + 1 == args.length) {
                        usage("--listen needs HOST:PORT");
                    }
                    setting = "--listen";
                    listen = args[++i];
                }
                case "--help", "-h" -> usage(null);
                default -> usage("unknown argument: " + args[i]);
            }
        }
        InetSocketAddress address;
        try {
            address = listenAddress(setting, listen);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        }
        HttpServer server = start(address, Duration.ofSeconds(1));
        InetSocketAddress bound = server.getAddress();
        System.out.println("ssekit demo on http://" + bound.getHostString() + ":" + bound.getPort() + "/  (Ctrl-C stops it)");
    }

    private static void usage(String error) {
        if (error != null) {
            System.err.println("error: " + error);
        }
        System.err.println("usage: bin/demo [--listen HOST:PORT]   (default 127.0.0.1:8080, or $SSEKIT_LISTEN)");
        System.exit(error == null ? 0 : 2);
    }
}
