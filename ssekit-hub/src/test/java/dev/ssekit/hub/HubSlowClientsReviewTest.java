package dev.ssekit.hub;

import static dev.ssekit.hub.HubSockets.CLOSED_WITHIN_MS;
import static dev.ssekit.hub.HubSockets.closed;
import static dev.ssekit.hub.HubSockets.response;
import static dev.ssekit.hub.HubSockets.send;
import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.TestCertificate;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An outside review of issue #28's bounds (branch r3), over sockets against a real hub: the shapes
 * of a slow or hostile client that the issue's own tests did not try. HTTP/2 connections (h2c by
 * prior knowledge, h2 over TLS) that go idle after a request; a body sent with an {@code Upgrade:
 * h2c} request head, which the upgrade handler used to buffer (up to 1 MiB) before any credential
 * was looked at and outside the cap on pending bodies; {@code Expect: 100-continue}, whose interim
 * answer counted as the response; a token after a {@code #}, honoured as the query but not redacted.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubSlowClientsReviewTest {

    @TempDir
    Path dir;
    private MercureHub hub;
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (hub != null) {
            hub.close();
        }
    }

    private void start(Optional<CertificateFiles> tls, Duration body, int minRate, Duration idle) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 10, 100,
                false, false, "", Duration.ofSeconds(1), tls).withLimits(HubConfig.Limits.DEFAULT
                        .withTimeouts(body, minRate, idle).withMaxPendingBytes(64L << 20)),
                Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
    }

    private void start() {
        start(Optional.empty(), Duration.ofSeconds(3), 1024, Duration.ofSeconds(1));
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(hub.address(), 5000);
        s.setSoTimeout(CLOSED_WITHIN_MS);
        return s;
    }

    // ---- HTTP/2 by hand: a preface, frames, HPACK literals without Huffman coding ----

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24 & 0x7f);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** A GET of {@code path}: :method GET and :scheme from the static table, :path and :authority as literals. */
    private static byte[] getHeaders(String scheme, String path) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x82); // :method GET
        b.write(scheme.equals("https") ? 0x87 : 0x86);
        literal(b, 4, path); // :path
        literal(b, 1, "localhost"); // :authority
        return b.toByteArray();
    }

    private static void literal(ByteArrayOutputStream b, int nameIndex, String value) {
        b.write(nameIndex); // literal header field without indexing, indexed name (index < 15)
        b.write(value.length()); // no Huffman, length < 127
        b.writeBytes(value.getBytes(ISO_8859_1));
    }

    /** Opens HTTP/2 on {@code s}: the preface and empty SETTINGS. */
    private static void preface(Socket s) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(ISO_8859_1));
        out.write(frame(4, 0, 0, new byte[0]));
        out.flush();
    }

    /** Reads frames, acknowledging SETTINGS, until stream {@code id} ends; returns its :status byte from the static table. */
    private static void awaitEnd(Socket s, int id) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        for (int frames = 0; frames < 100; frames++) {
            byte[] head = new byte[9];
            in.readFully(head);
            int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
            int type = head[3];
            int flags = head[4];
            int stream = (head[5] & 0x7f) << 24 | (head[6] & 0xff) << 16 | (head[7] & 0xff) << 8 | head[8] & 0xff;
            in.readFully(new byte[length]);
            if (type == 4 && (flags & 1) == 0) {
                s.getOutputStream().write(frame(4, 1, 0, new byte[0]));
                s.getOutputStream().flush();
            }
            if (type == 7) {
                throw new IOException("GOAWAY before stream " + id + " ended");
            }
            if (stream == id && (type == 0 || type == 1) && (flags & 1) != 0) {
                return;
            }
        }
        throw new IOException("stream " + id + " did not end within 100 frames");
    }

    /** Reads frames, acknowledging SETTINGS, until stream {@code id}'s HEADERS: the first byte of its block. */
    private static int responseStatusByte(Socket s, int id) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        for (int frames = 0; frames < 100; frames++) {
            byte[] head = new byte[9];
            in.readFully(head);
            int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
            int stream = (head[5] & 0x7f) << 24 | (head[6] & 0xff) << 16 | (head[7] & 0xff) << 8 | head[8] & 0xff;
            byte[] payload = new byte[length];
            in.readFully(payload);
            if (head[3] == 4 && (head[4] & 1) == 0) {
                s.getOutputStream().write(frame(4, 1, 0, new byte[0]));
                s.getOutputStream().flush();
            }
            if (head[3] == 1 && stream == id) {
                return payload[0] & 0xff; // no padding or priority flags from Netty's encoder
            }
        }
        throw new IOException("no HEADERS for stream " + id + " within 100 frames");
    }

    /**
     * An h2c connection (prior knowledge) that was answered once and then sends nothing is closed
     * at the idle timeout, as an HTTP/1.1 one is. Before the fix it stayed open (the idle timer ran
     * only for HTTP/1.1, and the head deadline is lifted at the first stream): "the hub kept the
     * connection open for 6000 ms".
     */
    @Test
    void anIdleH2cConnectionIsClosed() throws Exception {
        start();
        Socket s = connect();
        preface(s);
        s.getOutputStream().write(frame(1, 0x5, 1, getHeaders("http", "/healthz")));
        s.getOutputStream().flush();
        awaitEnd(s, 1);
        closed(s);
    }

    /** The same over TLS, h2 chosen by ALPN. */
    @Test
    void anIdleH2ConnectionOverTlsIsClosed() throws Exception {
        TestCertificate certificate = TestCertificate.create(dir, "hub");
        start(Optional.of(CertificateFiles.watch(certificate.certificate(), certificate.key(), Scheduler.system(), CertificateFiles.POLL)),
                Duration.ofSeconds(3), 1024, Duration.ofSeconds(1));
        SSLSocket s = (SSLSocket) certificate.clientContext().getSocketFactory().createSocket();
        sockets.add(s);
        s.connect(hub.address(), 5000);
        s.setSoTimeout(CLOSED_WITHIN_MS);
        SSLParameters p = s.getSSLParameters();
        p.setApplicationProtocols(new String[] {"h2"});
        s.setSSLParameters(p);
        s.startHandshake();
        assertThat(s.getApplicationProtocol()).isEqualTo("h2");
        preface(s);
        s.getOutputStream().write(frame(1, 0x5, 1, getHeaders("https", "/healthz")));
        s.getOutputStream().flush();
        awaitEnd(s, 1);
        closed(s);
    }

    /**
     * A publish head that asks for {@code Upgrade: h2c} and declares a body is decided on its head
     * like any other: without a credential it is answered 401 before its body is sent. Before the
     * fix the upgrade handler read (and held) the body, up to 1 MiB per connection, outside the cap
     * on pending bodies and before the token was looked at; nothing was answered and the head
     * deadline closed the connection: "closed in the head: ".
     */
    @Test
    void anUpgradeRequestsBodyWaitsForItsCredential() throws Exception {
        start();
        Socket s = connect();
        send(s, "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 1000000\r\n\r\n");
        assertThat(response(s)).startsWith("HTTP/1.1 401");
        closed(s);
    }

    /** An upgrade without a body still switches to h2c. */
    @Test
    void anUpgradeWithoutABodyStillSwitches() throws Exception {
        start();
        Socket s = connect();
        send(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
        assertThat(response(s)).startsWith("HTTP/1.1 101");
    }

    /**
     * A body sent after {@code 100 Continue}, slowly but above the rate floor and within the body
     * timeout, is read to its end and answered: the interim 100 is not the response. Before the fix
     * the 100 counted as the response, the idle timer started under the body and closed the
     * connection after 1 s: the next write failed with "Broken pipe".
     */
    @Test
    void aBodyAfter100ContinueIsNotCutByTheIdleTimeout() throws Exception {
        start(Optional.empty(), Duration.ofSeconds(20), 1, Duration.ofSeconds(1));
        Socket s = connect();
        String body = "topic=x&data=" + "a".repeat(27);
        send(s, "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token("{\"mercure\":{\"publish\":[\"*\"]}}")
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: " + body.length()
                + "\r\n\r\n");
        assertThat(response(s)).startsWith("HTTP/1.1 100");
        for (int i = 0; i < body.length(); i += 10) { // 40 bytes in about 2.4 s: 16 B/s, over the floor of 1 B/s
            send(s, body.substring(i, Math.min(body.length(), i + 10)));
            Thread.sleep(600);
        }
        assertThat(response(s)).startsWith("HTTP/1.1 200");
    }

    /**
     * A token after a {@code #} in the request target: Netty takes what follows it as the query, so
     * the hub honours it as the {@code authorization} parameter; the access log must redact it.
     * Before the fix the line held the token in clear (only a {@code ?} started the redacted part).
     */
    @Test
    void aTokenAfterAHashIsRedactedInTheAccessLog() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(new LogFormat(false).format(r));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger access = Logger.getLogger(AccessLog.LOGGER);
        java.util.logging.Level level = access.getLevel();
        access.setLevel(java.util.logging.Level.INFO);
        access.addHandler(capture);
        try {
            start();
            String secret = token("{\"mercure\":{\"publish\":[\"*\"]}}");
            Socket s = connect();
            String body = "topic=x&data=y";
            send(s, "POST " + HubHandler.PATH + "#authorization=" + secret + " HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            String answer = response(s);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (lines.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(lines).as("the access log (the hub answered " + answer.lines().findFirst().orElse("") + ")").isNotEmpty()
                    .noneMatch(l -> l.contains(secret));
        } finally {
            access.removeHandler(capture);
            access.setLevel(level);
        }
    }

    /**
     * A client that pipelines requests for a 10 KB page and never reads the answers gets no more
     * than its socket buffers and Netty's write buffer hold: the hub stops reading it. Before the fix
     * every request was answered into memory (a hub at -Xmx256m grew from 104 MB to 471 MB of RSS in
     * 30 s with 100,000 sent, and kept growing): with 4,000 sent and a bound of 1,000 answers the test
     * saw 1,132 after 8 s; with the fix the answers stop at what the kernel's buffers take.
     */
    @Test
    void aClientThatDoesNotReadIsNotAnsweredIntoMemory() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger access = Logger.getLogger(AccessLog.LOGGER);
        java.util.logging.Level level = access.getLevel();
        access.setLevel(java.util.logging.Level.INFO);
        access.addHandler(capture);
        Thread writer = null;
        try {
            JwtVerifier key = JwtVerifier.secret(KEY);
            hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 10, 100,
                    true, false, "", Duration.ofSeconds(1), Optional.empty()).withLimits(HubConfig.Limits.DEFAULT),
                    Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
            Socket s = new Socket();
            sockets.add(s);
            s.setReceiveBufferSize(4096);
            s.connect(hub.address(), 5000);
            byte[] requests = ("GET " + StatusFeed.PAGE + " HTTP/1.1\r\nHost: x\r\n\r\n").repeat(8000).getBytes(ISO_8859_1);
            writer = Thread.ofVirtual().start(() -> {
                try {
                    s.getOutputStream().write(requests); // may block for good once the hub stops reading
                } catch (IOException closed) {
                    // the test closed the socket
                }
            });
            // the kernel's buffers take a few hundred answers (274 in one run); then nothing more may be answered
            Thread.sleep(4000);
            long early = answered(lines);
            Thread.sleep(6000);
            long late = answered(lines);
            System.out.println("answers written to a client that reads none of them: " + early + " after 4 s, " + late + " after 10 s");
            assertThat(late).as("answers written to a client that reads none of them, after 10 s").isLessThan(1500);
            assertThat(late - early).as("answers written between 4 s and 10 s (" + early + " at 4 s)").isLessThan(50);
        } finally {
            access.removeHandler(capture);
            access.setLevel(level);
            for (Socket s : sockets) {
                s.close();
            }
            if (writer != null) {
                writer.join(5000);
            }
        }
    }

    private static long answered(List<String> lines) {
        return lines.stream().filter(l -> l.contains("GET " + StatusFeed.PAGE + " ")).count();
    }

    /**
     * An empty {@code --metrics-token} (a script's {@code --metrics-token "$TOKEN"} with the variable
     * unset) is refused, naming the option, and never lets {@code Authorization: Bearer } (empty)
     * read {@code /metrics}. Before the fix it was taken as the token "", and {@code
     * MessageDigest.isEqual} of two empty arrays is true: the hub answered the anonymous request 200.
     */
    @Test
    void anEmptyMetricsTokenOpensNothing() throws Exception {
        HubConfig.Limits limits = null;
        try {
            limits = HubConfig.Limits.DEFAULT.withMetrics(Optional.empty(), Optional.of(""));
        } catch (IllegalArgumentException refused) {
            assertThat(refused).hasMessageContaining("metricsToken");
        }
        if (limits != null) {
            JwtVerifier key = JwtVerifier.secret(KEY);
            hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 10, 100,
                    false, false, "", Duration.ofSeconds(1), Optional.empty()).withLimits(limits),
                    Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
            // over HTTP/2 (HTTP/1.1's decoder trims the value's trailing space), the header as sent: "Bearer "
            Socket s = connect();
            preface(s);
            ByteArrayOutputStream headers = new ByteArrayOutputStream();
            headers.writeBytes(getHeaders("http", "/metrics"));
            headers.write(0x0f); // literal without indexing, name index 23 (authorization): 15 + 8
            headers.write(0x08);
            headers.write(7);
            headers.writeBytes("Bearer ".getBytes(ISO_8859_1));
            s.getOutputStream().write(frame(1, 0x5, 1, headers.toByteArray()));
            s.getOutputStream().flush();
            assertThat(responseStatusByte(s, 1)).as(":status of /metrics to 'Bearer ' (0x88 is 200, 0x8d 404)").isEqualTo(0x8d);
        }
        for (String blank : List.of("", " ")) {
            assertThatThrownBy(() -> HubOptions.parse(new String[] {"--metrics-token", blank}, java.util.Map.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--metrics-token");
        }
    }
}
