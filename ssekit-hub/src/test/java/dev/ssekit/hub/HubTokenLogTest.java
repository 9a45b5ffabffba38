package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #28, item 4: no token a client sends reaches a log line or an error body, whatever position
 * it is sent in (the {@code authorization} parameter by any spelling that decodes to it, a malformed
 * URI around it, the {@code mercureAuthorization} cookie, the {@code Authorization} header) and
 * whatever the hub answers. Every line the hub logs (formatted as the hub process writes it, text and
 * JSON, and the bare message) and every response is searched for every token sent.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubTokenLogTest {

    private static final String APP = "https://app.example.com";

    private LogCapture log;
    private MercureHub hub;
    private int next;
    private final List<String> sent = new ArrayList<>();

    @BeforeEach
    void start() {
        log = LogCapture.start();
        JwtVerifier key = JwtVerifier.secret(KEY);
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, false, Set.of(APP), 1024, 10, 10,
                true, false, "", Duration.ofSeconds(10), Optional.empty()), Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
    }

    private boolean closed;

    @AfterEach
    void stop() {
        if (!closed) {
            hub.close();
        }
        log.close();
    }

    /** A fresh token: a valid subscriber and publisher JWT, unique to its case. */
    private String jwt() throws Exception {
        String t = token("{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"*\"]},\"jti\":\"case-" + next++ + "\"}");
        sent.add(t);
        return t;
    }

    /** A fresh token that is no JWT at all. */
    private String opaque() {
        String t = "opaqueSecret" + (next++) + "x7Q";
        sent.add(t);
        return t;
    }

    /** Sends raw bytes, returns all the hub answered before it closed (or 0.7 s passed without a byte: a stream). */
    private String exchange(String request) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(hub.address(), 5000);
            s.setSoTimeout(700);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0;) {
                    got.write(buf, 0, n);
                }
            } catch (java.net.SocketTimeoutException | java.net.SocketException enough) {
                // a stream stays open: what came is the answer
            }
            return got.toString(ISO_8859_1);
        }
    }

    private static String get(String target, String... headers) {
        return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + String.join("", headers) + "\r\n";
    }

    @Test
    void noTokenSentInAnyPositionIsLoggedOrEchoed() throws Exception {
        String mercure = HubHandler.PATH;
        List<String> answers = new ArrayList<>();
        for (boolean valid : new boolean[] {true, false}) {
            java.util.function.Supplier<String> t = () -> {
                try {
                    return valid ? jwt() : opaque();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            // the parameter, by every spelling that decodes to its name, and near-spellings
            answers.add(exchange(get(mercure + "?topic=x&authorization=" + t.get())));
            answers.add(exchange(get(mercure + "?topic=x&%61uthorization=" + t.get())));
            answers.add(exchange(get(mercure + "?topic=x&%61%75thorization=" + t.get())));
            answers.add(exchange(get(mercure + "?topic=x&Authorization=" + t.get())));
            answers.add(exchange(get(mercure + "?topic=x&authorization%3D" + t.get())));
            answers.add(exchange(get(mercure + "?authorization=" + t.get() + "&authorization=" + t.get())));
            answers.add(exchange(get("/healthz?authorization=" + t.get())));
            answers.add(exchange(get("/nowhere?authorization=" + t.get())));
            answers.add(exchange(get(Subscriptions.PATH + "?authorization=" + t.get())));
            // malformed URIs with the token in them
            answers.add(exchange(get("/%zz?authorization=" + t.get())));
            answers.add(exchange(get(mercure + "%?authorization=" + t.get())));
            answers.add(exchange(get(mercure + "%E0?topic=x&authorization=" + t.get())));
            answers.add(exchange(get(mercure + "?topic=%zz&authorization=" + t.get())));
            answers.add(exchange(get(mercure + "?authorization=" + t.get() + "%")));
            answers.add(exchange(get(mercure + "?authorization=" + t.get() + "&topic=%E0")));
            answers.add(exchange(get(mercure + "?%zz&authorization=" + t.get())));
            answers.add(exchange("GET " + mercure + "?authorization=" + t.get() + " HTTP/1.1 trailing\r\nHost: x\r\n\r\n"));
            answers.add(exchange(get(mercure + "?authorization=" + t.get() + "&pad=" + "a".repeat(5000))));
            answers.add(exchange("POST " + mercure + "?authorization=" + t.get() + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\n\r\n" + "a".repeat(5000)));
            answers.add(exchange("POST " + mercure + "?authorization=" + t.get() + "&%zz HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\n\r\ntopic=x"));
            // the cookie: without Origin, from a foreign origin, from the app, malformed around it
            answers.add(exchange(get(mercure + "?topic=x", "Cookie: mercureAuthorization=" + t.get() + "\r\n")));
            answers.add(exchange(get(mercure + "?topic=x", "Cookie: mercureAuthorization=" + t.get() + "\r\n",
                    "Origin: https://evil.example\r\n")));
            answers.add(exchange(get(mercure + "?topic=x&%zz", "Cookie: a=1; mercureAuthorization=\"" + t.get() + "\r\n",
                    "Origin: " + APP + "\r\n")));
            answers.add(exchange("POST " + mercure + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: mercureAuthorization="
                    + t.get() + "\r\nOrigin: https://evil.example\r\nContent-Length: 7\r\n\r\ntopic=x"));
            // the header
            answers.add(exchange(get(mercure + "?topic=x", "Authorization: Bearer " + t.get() + "\r\n")));
            answers.add(exchange(get(mercure + "?topic=x", "Authorization: Basic " + t.get() + "\r\n")));
            answers.add(exchange(get(mercure + "?topic=%zz", "Authorization: Bearer " + t.get() + "\r\n")));
            answers.add(exchange(get(mercure + "?topic=x", "Authorization: Bearer " + t.get() + "\u00ff\r\n")));
        }
        hub.close(); // streams end: their access-log lines are written
        closed = true;
        long streams = answers.stream().filter(a -> a.startsWith("HTTP/1.1 200") && a.contains("text/event-stream")).count();
        assertThat(streams).as("streams among the answers").isPositive();
        await("an access-log line for each stream's end").atMost(Duration.ofSeconds(10)).until(() -> log.records().stream()
                .filter(r -> r.getLoggerName().equals(AccessLog.LOGGER) && String.valueOf(r.getMessage()).contains(" stream end: "))
                .count() >= streams);
        assertThat(log.records()).as("the hub logged").isNotEmpty();
        assertThat(log.records().stream().filter(r -> r.getLoggerName().equals(AccessLog.LOGGER)).count()).as("access log lines")
                .isGreaterThan(20);
        LogFormat text = new LogFormat(false);
        LogFormat json = new LogFormat(true);
        List<String> leaks = new ArrayList<>();
        for (LogRecord r : log.records()) {
            String bare = String.valueOf(text.formatMessage(r)) + (r.getThrown() == null ? "" : stack(r.getThrown()));
            for (String line : List.of(bare, text.format(r), json.format(r))) {
                if (sent.stream().anyMatch(line::contains)) {
                    leaks.add("log: " + line.strip());
                }
            }
        }
        for (String answer : answers) {
            if (sent.stream().anyMatch(answer::contains)) {
                leaks.add("answer: " + answer.strip());
            }
        }
        assertThat(leaks).as("log lines and answers with a token in them").isEmpty();
    }

    private static String stack(Throwable t) {
        java.io.StringWriter w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }
}
