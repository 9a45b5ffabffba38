package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * README's promise about refusals: each is logged once, with its status and reason, at INFO and
 * without a stack trace (a client must not be able to fill the log with traces), over real sockets.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubRefusalLogTest {

    static final String PUBLISHER = "{\"mercure\":{\"publish\":[\"*\"]}}";

    /** Every record of ssekit's loggers but the access log, which logs every request by design. */
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (!r.getLoggerName().equals(AccessLog.LOGGER)) {
                records.add(r);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger ssekit = Logger.getLogger("dev.ssekit");
    private Level level;
    private Broadcaster broadcaster;
    private MercureHub hub;

    @BeforeEach
    void start() {
        level = ssekit.getLevel();
        ssekit.setLevel(Level.INFO);
        ssekit.addHandler(capture);
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = Broadcaster.create();
        // one subscriber at most, so that a second one is refused with 503
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1024, 10, 1,
                false, false, "", Duration.ofSeconds(10), Optional.empty()), broadcaster, Scheduler.system(), Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        hub.close();
        broadcaster.close();
        ssekit.removeHandler(capture);
        ssekit.setLevel(level);
    }

    /** Sends raw bytes; returns the status line of the answer. */
    private String exchange(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", hub.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(ISO_8859_1));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            for (int b; !head.toString(ISO_8859_1).endsWith("\r\n") && (b = in.read()) >= 0;) {
                head.write(b);
            }
            return head.toString(ISO_8859_1).strip();
        }
    }

    private static String publish(String form, String token) {
        return "POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length() + "\r\n\r\n" + form;
    }

    private static String formatted(LogRecord r) {
        return new SimpleFormatter().formatMessage(r);
    }

    /** Each refusal: its status line, then exactly one INFO record naming its status, no throwable. */
    private void refusedAndLoggedOnce(String request, int status, String reason) throws IOException {
        records.clear();
        assertThat(exchange(request)).startsWith("HTTP/1.1 " + status + " ");
        // every refusal is logged before its answer is written, so it is here once the answer is
        assertThat(records).as("records for a %d refusal: %s", status, records.stream().map(HubRefusalLogTest::formatted).toList())
                .hasSize(1);
        LogRecord r = records.getFirst();
        assertThat(r.getLevel()).isEqualTo(Level.INFO);
        assertThat(r.getThrown()).as("no stack trace").isNull();
        assertThat(formatted(r)).contains(Integer.toString(status)).containsIgnoringCase(reason);
    }

    @Test
    void everyRefusalIsLoggedOnceWithItsStatusAndReasonAndNoStackTrace() throws Exception {
        refusedAndLoggedOnce(publish("topic=a&data=x&retry=-1", token(PUBLISHER)), 400, "retry");
        refusedAndLoggedOnce(publish("data=x", token(PUBLISHER)), 400, "topic");
        refusedAndLoggedOnce(publish("topic=a&data=x", "not.a.token"), 401, "");
        refusedAndLoggedOnce(publish("topic=a&data=x", token("{\"mercure\":{\"publish\":[\"b\"]}}")), 403, "");
        refusedAndLoggedOnce(publish("topic=a&data=" + "x".repeat(2000), token(PUBLISHER)), 413, "");
        // with Expect: 100-continue (curl's way with large bodies) Netty answers before the body comes
        refusedAndLoggedOnce(publish("topic=a&data=" + "x".repeat(2000), token(PUBLISHER))
                .replace("Content-Type:", "Expect: 100-continue\r\nContent-Type:"), 413, "");
        // a token in the query is not written to the log
        refusedAndLoggedOnce(publish("topic=a&data=" + "x".repeat(2000), token(PUBLISHER))
                .replace("POST /.well-known/mercure ", "POST /.well-known/mercure?authorization=secret-token-text "), 413, "");
        assertThat(formatted(records.getFirst())).doesNotContain("secret-token-text");
        refusedAndLoggedOnce("GET /healthz?" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "");
        refusedAndLoggedOnce("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n", 431, "");
        refusedAndLoggedOnce("\0\1\2 garbage\r\n\r\n", 400, "");
        try (RawHttp first = RawHttp.get(hub.address(), "/.well-known/mercure?topic=a", "HTTP/1.1")) {
            assertThat(first.statusLine).startsWith("HTTP/1.1 200");
            refusedAndLoggedOnce("GET /.well-known/mercure?topic=a HTTP/1.1\r\nHost: x\r\n\r\n", 503, "");
        }
        assertThat(broadcaster.stats().published()).isZero();
        // what the refusals' connections left behind (a client closing in the middle of a refused body,
        // noticed after its answer) may be a DEBUG line, never a warning or a trace
        String last = exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(last).startsWith("HTTP/1.1 200");
        assertThat(records).as("records after the refusals").allSatisfy(r -> {
            assertThat(r.getLevel().intValue()).isLessThanOrEqualTo(Level.INFO.intValue());
            assertThat(r.getThrown()).isNull();
        });
    }
}
