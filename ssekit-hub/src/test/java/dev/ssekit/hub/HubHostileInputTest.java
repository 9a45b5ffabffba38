package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.b64;
import static dev.ssekit.hub.JwtVerifierTest.hs256;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile HTTP against the hub (issue #9), byte-exact over raw sockets: oversized and malformed
 * requests, bad encodings, injection attempts, forged and stale tokens, slow request heads, and
 * private updates probed with every kind of selector.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.ValueSource(strings = {"http", "https"})
class HubHostileInputTest {

    static final String PUBLISHER = "{\"mercure\":{\"publish\":[\"*\"]}}";

    /** {@code http} or {@code https}: every hostile request of this run goes over it. */
    @org.junit.jupiter.params.Parameter
    String scheme;

    @org.junit.jupiter.api.io.TempDir
    static java.nio.file.Path certificates;
    static dev.ssekit.testkit.TestCertificate certificate;

    @org.junit.jupiter.api.BeforeAll
    static void certificate() throws Exception {
        certificate = dev.ssekit.testkit.TestCertificate.create(certificates, "hostile");
    }

    private boolean tls() {
        return scheme.equals("https");
    }

    /** A connection to the hub, TLS-handshaken for HTTPS. */
    private Socket socket() throws IOException {
        if (!tls()) {
            return new Socket("127.0.0.1", hub.address().getPort());
        }
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) certificate.clientContext().getSocketFactory()
                .createSocket("127.0.0.1", hub.address().getPort());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    /** A raw request whose response head is read, over TLS for HTTPS. */
    private RawHttp raw(String pathAndQuery, String version, String... headers) throws IOException {
        return tls() ? RawHttp.get(certificate.clientContext(), hub.address(), pathAndQuery, version, headers)
                : RawHttp.get(hub.address(), pathAndQuery, version, headers);
    }

    private Broadcaster broadcaster;
    private MercureHub hub;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() {
        start(100);
    }

    private void start(int maxTopics) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = Broadcaster.create();
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 64 * 1024, maxTopics, 100,
                false, false, "", Duration.ofMillis(500), tls() ? java.util.Optional.of(CertificateFiles.watch(certificate.certificate(),
                        certificate.key(), Scheduler.system(), CertificateFiles.POLL)) : java.util.Optional.empty()),
                broadcaster, Scheduler.system(), Clock.systemUTC());
    }

    /** Whether the hub closed the connection: the peer sees the end of the stream (or a reset) within 2 s. */
    private boolean closedAfter(byte[] request) throws IOException {
        try (Socket s = socket()) {
            s.setSoTimeout(2000);
            s.getOutputStream().write(request);
            InputStream in = s.getInputStream();
            try {
                while (in.read() >= 0) {
                    // the answer, then the end
                }
                return true;
            } catch (java.net.SocketTimeoutException stillOpen) {
                return false;
            } catch (java.net.SocketException reset) {
                return true;
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        hub.close();
    }

    /**
     * Sends raw bytes and returns the hub's answer: the head and a Content-Length body, or all bytes
     * until the hub closes (or goes quiet for 2 s).
     */
    private String exchange(byte[] request) throws IOException {
        try (Socket s = socket()) {
            s.setSoTimeout(2000);
            s.getOutputStream().write(request);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                int bodyEnd = -1;
                for (int b; (bodyEnd < 0 || out.size() < bodyEnd) && (b = in.read()) >= 0;) {
                    out.write(b);
                    String sofar = out.toString(ISO_8859_1);
                    if (bodyEnd < 0 && sofar.endsWith("\r\n\r\n")) {
                        var m = java.util.regex.Pattern.compile("(?im)^content-length: *(\\d+)").matcher(sofar);
                        if (m.find()) {
                            bodyEnd = out.size() + Integer.parseInt(m.group(1));
                        }
                    }
                }
            } catch (java.net.SocketTimeoutException quiet) {
                // no Content-Length and no close: what came is the answer
            } catch (java.net.SocketException reset) {
                // closed with a reset after the answer
            }
            return out.toString(ISO_8859_1);
        }
    }

    private static String statusLine(String response) {
        return response.isEmpty() ? "(nothing)" : response.substring(0, response.indexOf("\r\n"));
    }

    private String publish(byte[] form, String token) throws IOException {
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        r.writeBytes(("POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length + "\r\n\r\n").getBytes(ISO_8859_1));
        r.writeBytes(form);
        return exchange(r.toByteArray());
    }

    private String publish(String form) throws Exception {
        return publish(form.getBytes(ISO_8859_1), token(PUBLISHER));
    }

    /**
     * Issue #14: an anonymous subscriber to {@code {+path}.json} and one publish of {@code a,a,…x}
     * froze the hub (the backtracking matcher ran under the publish lock, so an unrelated publish
     * waited too). Every answer here must come within the 2 s that {@link #exchange} waits.
     */
    @Test
    void aTemplateSubscriberAndACraftedTopicCannotFreezePublishing() throws Exception {
        String template = "https://example.com/{+path}.json";
        try (RawHttp anonymous = raw(HubHandler.PATH + "?topic=" + URLEncoder.encode(template, UTF_8), "HTTP/1.1");
                RawHttp bystander = raw(HubHandler.PATH + "?topic=" + URLEncoder.encode("https://example.com/calm", UTF_8),
                        "HTTP/1.1")) {
            await().atMost(java.time.Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(broadcaster.stats().connections()).as("subscribers").isEqualTo(2));
            for (int commas : new int[] {20, 1000}) {
                String crafted = "https://example.com/" + "a,".repeat(commas) + "x";
                var attack = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return publish("topic=" + URLEncoder.encode(crafted, UTF_8) + "&data=attack");
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                String calm = publish("topic=" + URLEncoder.encode("https://example.com/calm", UTF_8) + "&data=calm");
                assertThat(statusLine(calm)).as("an unrelated publish meanwhile").isEqualTo("HTTP/1.1 200 OK");
                assertThat(statusLine(attack.get(10, java.util.concurrent.TimeUnit.SECONDS))).isEqualTo("HTTP/1.1 200 OK");
                assertThat(bystander.readEvent()).endsWith("data: calm\n\n");
                String matching = publish("topic=" + URLEncoder.encode(crafted + ".json", UTF_8) + "&data=" + commas);
                assertThat(statusLine(matching)).isEqualTo("HTTP/1.1 200 OK");
                assertThat(anonymous.readEvent()).as("the crafted topic did not match; its .json form does").endsWith("data: " + commas + "\n\n");
            }
        }
        // the densest templates are bounded: more than 10 expressions is refused
        String dense = "https://example.com/" + "{+a}".repeat(TopicMatcher.MAX_EXPRESSIONS + 1);
        try (RawHttp refused = raw(HubHandler.PATH + "?topic=" + URLEncoder.encode(dense, UTF_8), "HTTP/1.1",
                "Connection: close")) {
            assertThat(refused.statusLine).isEqualTo("HTTP/1.1 400 Bad Request");
            assertThat(refused.readToEnd()).contains("at most 10 expressions");
        }
    }

    /**
     * HTTP/1.1 pipelining: a publish (answered once stored, off the event loop) and a health check
     * sent in one write are answered in that order; a subscribe pipelined behind them gets its
     * stream, and a request pipelined behind the subscribe is never answered into the stream.
     */
    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        byte[] form = "topic=pipelined&data=first".getBytes(ISO_8859_1);
        String requests = "POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token(PUBLISHER)
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length + "\r\n\r\n"
                + new String(form, ISO_8859_1)
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /.well-known/mercure?topic=pipelined HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        try (Socket s = socket()) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(requests.getBytes(ISO_8859_1));
            InputStream in = s.getInputStream();
            String first = response(in);
            assertThat(first).startsWith("HTTP/1.1 200 OK").doesNotEndWith("ok\n");
            String id = first.substring(first.indexOf("\r\n\r\n") + 4);
            assertThat(response(in)).startsWith("HTTP/1.1 200 OK").endsWith("\r\n\r\nok\n");
            assertThat(readUntil(in, "\r\n\r\n")).startsWith("HTTP/1.1 200 OK").contains("content-type: text/event-stream");
            assertThat(statusLine(publish("topic=pipelined&data=second"))).isEqualTo("HTTP/1.1 200 OK");
            // the stream carries its opening comment and the second update, chunked; no healthz answer in it
            assertThat(readUntil(in, "data: second")).doesNotContain("HTTP/1.1").doesNotContain("ok\n").doesNotContain(id);
        }
    }

    /** Bytes up to and including {@code marker}; EOFException if the connection ends first. */
    private static String readUntil(InputStream in, String marker) throws IOException {
        StringBuilder b = new StringBuilder();
        while (b.indexOf(marker) < 0) {
            int c = in.read();
            if (c < 0) {
                throw new java.io.EOFException("connection closed before " + marker + ": " + b);
            }
            b.append((char) c);
        }
        return b.toString();
    }

    /** One response with a Content-Length body, read from a stream that may hold more. */
    static String response(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (!out.toString(ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("connection closed inside a response head: " + out.toString(ISO_8859_1));
            }
            out.write(b);
        }
        var m = java.util.regex.Pattern.compile("(?im)^content-length: *(\\d+)").matcher(out.toString(ISO_8859_1));
        assertThat(m.find()).as("Content-Length in %s", out).isTrue();
        out.writeBytes(in.readNBytes(Integer.parseInt(m.group(1))));
        return out.toString(ISO_8859_1);
    }

    @Test
    void oversizedOrUnreadableRequestsGetTheirStatusAndAClose() throws Exception {
        String bigHeader = exchange(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n").getBytes(ISO_8859_1));
        assertThat(statusLine(bigHeader)).isEqualTo("HTTP/1.1 431 Request Header Fields Too Large");
        assertThat(bigHeader).containsIgnoringCase("connection: close");
        byte[] longLine = ("GET /healthz?" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(ISO_8859_1);
        String longUri = exchange(longLine);
        assertThat(statusLine(longUri)).isEqualTo("HTTP/1.1 414 Request-URI Too Long");
        assertThat(longUri).containsIgnoringCase("connection: close");
        assertThat(closedAfter(longLine)).as("the connection is closed after the 414").isTrue();
        assertThat(closedAfter(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n").getBytes(ISO_8859_1)))
                .as("the connection is closed after the 431").isTrue();
        assertThat(statusLine(exchange("\0\1\2 garbage\r\n\r\n".getBytes(ISO_8859_1)))).isEqualTo("HTTP/1.1 400 Bad Request");
        String bigBody = publish("topic=a&data=" + "x".repeat(70_000));
        assertThat(statusLine(bigBody)).isEqualTo("HTTP/1.1 413 Request Entity Too Large");
        assertThat(broadcaster.stats().published()).isZero();
    }

    @Test
    void badEncodingsInFormsAndQueriesAre400AndNothingIsStored() throws Exception {
        assertThat(statusLine(publish(new byte[] {'t', 'o', 'p', 'i', 'c', '=', 'a', '&', 'd', 'a', 't', 'a', '=', (byte) 0xFF, (byte) 0xFE},
                token(PUBLISHER)))).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(publish("topic=a&data=%FF%FE")).startsWith("HTTP/1.1 400 ").contains("the form is not UTF-8");
        assertThat(publish("topic=a&data=%C3")).startsWith("HTTP/1.1 400 "); // a truncated sequence
        assertThat(publish("topic=a&data=%zz")).startsWith("HTTP/1.1 400 ").contains("malformed percent-encoding");
        assertThat(publish("topic=a&data=50%")).startsWith("HTTP/1.1 400 ");
        assertThat(statusLine(exchange("GET /.well-known/mercure?topic=%FF HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1))))
                .isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(publish("topic=caf%C3%A9&data=%E2%9C%93")).startsWith("HTTP/1.1 200 "); // valid UTF-8 is fine
        assertThat(broadcaster.stats().published()).isEqualTo(1);
    }

    @Test
    void thousandsOfTopicsAndInjectionAttemptsAre400() throws Exception {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            many.append("topic=t").append(i).append('&');
        }
        // the hostile amounts against the default limit (--max-topics 1000), not this class's 100
        hub.close();
        start(HubOptions.parse(new String[0], Map.of()).maxTopics());
        assertThat(HubOptions.parse(new String[0], Map.of()).maxTopics()).isEqualTo(1000);
        assertThat(publish(many + "data=x")).startsWith("HTTP/1.1 400 ");
        assertThat(publish(many.substring(0, many.indexOf("topic=t1001&")) + "data=x")).as("1,001 topics")
                .startsWith("HTTP/1.1 400 ").contains("more than 1000 topics");
        // a subscribe cannot carry a thousand topics: its request line is over the 4 KiB limit first
        String thousandQuery = many.substring(0, many.indexOf("topic=t1000&"));
        assertThat(statusLine(exchange(("GET /.well-known/mercure?" + thousandQuery + " HTTP/1.1\r\nHost: x\r\n\r\n")
                .getBytes(ISO_8859_1)))).isEqualTo("HTTP/1.1 414 Request-URI Too Long");
        hub.close();
        start(100);
        // and over a lower limit, hundreds in a subscribe are refused
        assertThat(statusLine(exchange(("GET /.well-known/mercure?" + many.substring(0, 3000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                .getBytes(ISO_8859_1)))).isEqualTo("HTTP/1.1 400 Bad Request");
        for (String evil : List.of("%0D%0Adata:%20injected", "%0Aid:%207", "%0D", "%00")) {
            assertThat(publish("topic=a&data=x&id=1" + evil)).as("id " + evil).startsWith("HTTP/1.1 400 ");
            assertThat(publish("topic=a&data=x&type=t" + evil)).as("type " + evil).startsWith("HTTP/1.1 400 ");
            assertThat(publish("topic=a" + evil + "&data=x")).as("topic " + evil).startsWith("HTTP/1.1 400 ");
            assertThat(statusLine(exchange(("GET /.well-known/mercure?topic=a" + evil + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(ISO_8859_1)))).as("subscribe " + evil).isEqualTo("HTTP/1.1 400 Bad Request");
        }
        assertThat(publish("topic=a&data=x&retry=-1")).startsWith("HTTP/1.1 400 ");
        assertThat(publish("topic=a&data=x&retry=1e3")).startsWith("HTTP/1.1 400 ");
        assertThat(broadcaster.stats().published()).isZero();
    }

    @Test
    void forgedStaleAndMalformedTokensAre401() throws Exception {
        String header = b64("{\"alg\":\"HS256\"}");
        String payload = b64(PUBLISHER);
        List<String> bad = List.of(
                b64("{\"alg\":\"none\"}") + "." + payload + ".",                                   // alg none
                hs256("{\"alg\":\"HS256\"}", PUBLISHER, "another-key-another-key-another-key".getBytes(UTF_8)), // wrong key
                token("{\"exp\":1000,\"mercure\":{\"publish\":[\"*\"]}}"),                          // expired
                token("{\"nbf\":99999999999,\"mercure\":{\"publish\":[\"*\"]}}"),                   // not valid yet
                header + "." + payload,                                                             // two parts
                header + ".%%%." + "sig",                                                           // not base64url
                token("{\"mercure\":{\"publish\":[\"*\"]}}").replaceFirst("\\.[^.]+$", ".AAAA")); // tampered signature
        for (String t : bad) {
            assertThat(statusLine(publish("topic=a&data=x".getBytes(ISO_8859_1), t))).as(t).isEqualTo("HTTP/1.1 401 Unauthorized");
            assertThat(statusLine(exchange(("GET /.well-known/mercure?topic=a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t
                    + "\r\n\r\n").getBytes(ISO_8859_1)))).as(t).isEqualTo("HTTP/1.1 401 Unauthorized");
        }
        assertThat(statusLine(publish("topic=a&data=x".getBytes(ISO_8859_1), token("{\"mercure\":{\"publish\":[\"b\"]}}"))))
                .as("a topic the token may not publish to").isEqualTo("HTTP/1.1 403 Forbidden");
        assertThat(broadcaster.stats().published()).isZero();
    }

    @Test
    void aSlowRequestHeadIsCutOff() throws Exception {
        try (Socket s = socket()) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\n".getBytes(ISO_8859_1));
            long start = System.nanoTime();
            int got = 0;
            // one header byte every 100 ms: never a complete head; the hub closes after 500 ms
            while (got >= 0 && System.nanoTime() - start < 15_000_000_000L) {
                try {
                    s.getOutputStream().write('X');
                    s.getOutputStream().flush();
                } catch (IOException reset) {
                    got = -1;
                    break;
                }
                s.setSoTimeout(100);
                try {
                    got = s.getInputStream().read();
                } catch (java.net.SocketTimeoutException stillOpen) {
                    got = 0;
                } catch (IOException reset) {
                    got = -1;
                }
            }
            assertThat(got).as("the hub closed the connection").isEqualTo(-1);
        }
        // a prompt client is unaffected
        assertThat(statusLine(exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1)))).isEqualTo("HTTP/1.1 200 OK");
    }

    @Test
    void aPrivateUpdateNeverReachesASubscriberWithoutAMatchingClaimWhateverItsSelector() throws Exception {
        String canonical = "https://example.com/books/1";
        String alternate = "https://example.com/users/kevin/books/1";
        List<String> selectors = List.of("*", canonical, alternate, "https://example.com/books/{id}",
                "https://example.com/{+path}", "{+anything}");
        List<String> nonMatchingClaims = List.of("", "{\"mercure\":{\"subscribe\":[]}}",
                "{\"mercure\":{\"subscribe\":[\"https://example.com/books/2\"]}}",
                "{\"mercure\":{\"subscribe\":[\"https://example.com/authors/{id}\"]}}",
                "{\"mercure\":{\"publish\":[\"*\"]}}");
        List<RawHttp> outsiders = new ArrayList<>();
        for (String selector : selectors) {
            for (String claim : nonMatchingClaims) {
                String auth = claim.isEmpty() ? "X-No-Token: 1" : "Authorization: Bearer " + token(claim);
                RawHttp c = raw(HubHandler.PATH + "?topic=" + URLEncoder.encode(selector, UTF_8)
                        + "&topic=marker", "HTTP/1.1", auth);
                closeables.add(c);
                outsiders.add(c);
            }
        }
        RawHttp insider = raw(HubHandler.PATH + "?topic=*", "HTTP/1.1",
                "Authorization: Bearer " + token("{\"mercure\":{\"subscribe\":[\"" + alternate + "\"]}}"));
        closeables.add(insider);
        await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(broadcaster.stats().connections()).as("subscribers").isEqualTo(outsiders.size() + 1));
        assertThat(publish("topic=" + URLEncoder.encode(canonical, UTF_8) + "&topic=" + URLEncoder.encode(alternate, UTF_8)
                + "&data=secret&private=on")).startsWith("HTTP/1.1 200 ");
        assertThat(publish("topic=marker&data=public")).startsWith("HTTP/1.1 200 ");
        for (int i = 0; i < outsiders.size(); i++) {
            RawHttp c = outsiders.get(i);
            String who = "selector " + selectors.get(i / nonMatchingClaims.size()) + ", claim "
                    + nonMatchingClaims.get(i % nonMatchingClaims.size()) + ", " + c.statusLine;
            try {
                assertThat(c.events(1).getFirst().data()).as("the first event %s sees is the public marker", who).isEqualTo("public");
            } catch (IOException e) {
                throw new AssertionError(who + ": " + e.getMessage(), e);
            }
        }
        assertThat(insider.events(1).getFirst().data()).isEqualTo("secret"); // a claim matching the alternate topic is enough
    }
}
