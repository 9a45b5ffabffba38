package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import java.io.InputStream;
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
 * Issue #28, suspected: a client must not write control characters into the hub's text log (log
 * injection: a forged line after a CR/LF, terminal escapes). Requests carry them raw in the request
 * line where the HTTP decoder lets them through, and percent-encoded in the path and query (the hub
 * logs decoded paths in its refusals); every record the hub logs meanwhile, formatted as the hub
 * process writes its text log, is one line without a C0, DEL or C1 character.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubLogInjectionTest {

    private LogCapture log;
    private MercureHub hub;

    @BeforeEach
    void start() {
        log = LogCapture.start();
        JwtVerifier key = JwtVerifier.secret(KEY);
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1024, 10, 10,
                true, false, "", Duration.ofSeconds(10), Optional.empty()), Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        hub.close();
        log.close();
    }

    /** Sends raw bytes; returns the status line of the answer (or "" when the hub closed without one). */
    private String exchange(String request) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(hub.address(), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) >= 0 && c != '\n';) {
                line.append((char) c);
            }
            return line.toString().strip();
        }
    }

    @Test
    void noClientByteReachesTheTextLogAsAControlCharacter() throws Exception {
        String forged = "2026-01-01T00:00:00Z INFO dev.ssekit.hub.access forged";
        List<String> targets = List.of(
                "/nowhere%0d%0a" + forged.replace(" ", "%20") + "%1b%5b31m",
                "/.well-known/mercure?match=%0a" + forged.replace(" ", "+"),
                "/.well-known/mercure?match=x&x=%0d%0a%1b%5b2J%7f%c2%85",
                "/nowhere\u001b[31mred\u007f\u0085",
                "/.well-known/mercure?match=x\u001b[2J&y=\u0007");
        List<String> statuses = new ArrayList<>();
        for (String target : targets) {
            statuses.add(exchange("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        }
        statuses.add(exchange("POST /nowhere%0a%1b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        assertThat(statuses).as("answered, each").allMatch(s -> s.startsWith("HTTP/1.1 "));

        LogFormat text = new LogFormat(false);
        List<String> lines = new ArrayList<>();
        for (LogRecord r : log.records()) {
            lines.add(text.format(r));
        }
        assertThat(lines).as("what the hub logged").isNotEmpty();
        assertThat(lines).as("log lines containing the client's newline, escapes or forged line start").allSatisfy(line -> {
            String body = line.substring(0, line.length() - 1);
            assertThat(line).endsWith("\n");
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                assertThat(c < 0x20 || c >= 0x7f && c <= 0x9f).as("U+%04X at %d in %s", (int) c, i, body).isFalse();
            }
        });
    }
}
