package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** JwtVerifier.jwks against a real local HTTP server; time for the refetch rate limit is a manual ticker. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JwksTest {

    static final Instant NOW = Instant.ofEpochSecond(1_800_000_000L);
    static final Duration MIN_REFETCH = Duration.ofSeconds(30);
    static final Duration NO_PERIODIC = Duration.ofHours(1);

    static TestKey a;
    static TestKey b;
    static TestKey ec;
    static TestKey ed;

    @BeforeAll
    static void keys() {
        a = TestKey.generate(JWSAlgorithm.RS256);
        b = TestKey.generate(JWSAlgorithm.RS256);
        ec = TestKey.generate(JWSAlgorithm.ES256);
        ed = TestKey.generate(JWSAlgorithm.EdDSA);
    }

    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicLong nanos = new AtomicLong();
    private volatile String body = "{\"keys\":[]}";
    private volatile int status = 200;
    private volatile CountDownLatch gate; // when set, the server answers only once it is open
    private HttpServer server;
    private ExecutorService serverThreads;
    private HttpClient http;
    private URI url;
    private final Logger jul = Logger.getLogger(JwtVerifier.class.getName());
    private final List<LogRecord> logged = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws Exception {
        serverThreads = Executors.newCachedThreadPool();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(serverThreads);
        server.createContext("/jwks.json", exchange -> {
            requests.incrementAndGet();
            try (exchange) {
                CountDownLatch g = gate;
                if (g != null) {
                    g.await(10, SECONDS);
                }
                byte[] bytes = body.getBytes(UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/jwk-set+json");
                exchange.sendResponseHeaders(status, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json");
        http = HttpClient.newHttpClient();
        jul.addHandler(capture);
    }

    @AfterEach
    void stop() {
        jul.removeHandler(capture);
        CountDownLatch g = gate;
        if (g != null) {
            g.countDown();
        }
        try {
            server.stop(0);
        } catch (IllegalStateException alreadyStopped) {
            // serverDownKeepsTheOldKeys stopped it
        }
        serverThreads.shutdownNow();
        http.close();
    }

    private void serve(JWK... keys) {
        body = new JWKSet(List.of(keys)).toString(false); // false: keep oct keys, which a public set must not have
    }

    private JwtVerifier verifier() {
        return verifier(NO_PERIODIC);
    }

    private JwtVerifier verifier(Duration refreshEvery) {
        return JwtVerifier.jwks(url, http, refreshEvery, MIN_REFETCH, nanos::get);
    }

    static Claims ok(JwtVerifier v, String token) throws Exception {
        return v.verify(token, NOW).toCompletableFuture().get(10, SECONDS);
    }

    static String refused(JwtVerifier v, String token) throws Exception {
        CompletableFuture<Claims> f = v.verify(token, NOW).toCompletableFuture();
        try {
            f.get(10, SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(JwtException.class);
            return e.getCause().getMessage();
        }
        throw new AssertionError("the token was accepted");
    }

    /** A refusal that did not wait for anything: the stage was complete when verify returned. */
    static String refusedAtOnce(JwtVerifier v, String token) {
        CompletableFuture<Claims> f = v.verify(token, NOW).toCompletableFuture();
        assertThat(f).as("answered at once").isCompletedExceptionally();
        return f.handle((c, e) -> (e instanceof CompletionException && e.getCause() != null ? e.getCause() : e).getMessage()).join();
    }

    private List<String> warnings() {
        synchronized (logged) {
            return logged.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                    .map(r -> java.text.MessageFormat.format(r.getMessage(), r.getParameters())).toList();
        }
    }

    @Test
    void keysByKidAndTheirAlgorithms() throws Exception {
        JWK pinned = new RSAKey.Builder((java.security.interfaces.RSAPublicKey) b.pair().getPublic())
                .keyID("b384").algorithm(JWSAlgorithm.RS384).build();
        OctetSequenceKey secret = new OctetSequenceKey.Builder(new byte[32]).keyID("s").build();
        serve(a.jwk("a"), pinned, ec.jwk("e"), ed.jwk("d"), secret);
        try (JwtVerifier v = verifier()) {
            assertThat(ok(v, a.sign("a", "{\"mercure\":{\"publish\":[\"x\"]}}")).publish()).containsExactly("x");
            assertThat(ok(v, ec.sign("e", "{}"))).isNotNull();
            assertThat(ok(v, ed.sign("d", "{}"))).isNotNull();
            assertThat(ok(v, b.as(JWSAlgorithm.RS384).sign("b384", "{}"))).as("the key's alg").isNotNull();
            assertThat(refusedAtOnce(v, b.sign("b384", "{}"))).as("not another alg than the key's")
                    .isEqualTo("token algorithm RS256 is not accepted for its key, which accepts RS384");
            assertThat(refusedAtOnce(v, b.as(JWSAlgorithm.RS384).sign("a", "{}"))).as("signed by b, claims to be a")
                    .isEqualTo("bad token signature");
            assertThat(refusedAtOnce(v, ec.sign("a", "{}"))).startsWith("token algorithm ES256 is not accepted for its key");
            // no kid: accepted only when exactly one key fits the algorithm
            assertThat(ok(v, ec.sign("{}"))).isNotNull();
            assertThat(ok(v, a.as(JWSAlgorithm.RS512).sign("{}"))).as("only a fits RS512").isNotNull();
            assertThat(refusedAtOnce(v, a.as(JWSAlgorithm.RS384).sign("{}")))
                    .isEqualTo("token has no key id (kid) and several keys fit its algorithm");
            assertThat(refusedAtOnce(v, JwtVerifierTest.tokenUnchecked("{}")))
                    .isEqualTo("token algorithm HS256 is not accepted by any of the hub's keys");
            // the oct key was refused, and an HS256 token naming it is not accepted
            String hsWithKid = new TestKey(JWSAlgorithm.HS256, new byte[32], null).sign("s", "{}");
            assertThat(refused(v, hsWithKid)).isEqualTo("unknown key id");
            assertThat(warnings()).anyMatch(w -> w.contains("refusing key \"s\"") && w.contains("symmetric (oct)"));
        }
    }

    @Test
    void anUnknownKidRefetchesOnceAndThenIsRateLimited() throws Exception {
        serve(a.jwk("a"));
        try (JwtVerifier v = verifier()) {
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
            assertThat(requests.get()).isEqualTo(1);
            serve(a.jwk("a"), b.jwk("b"));
            assertThat(ok(v, b.sign("b", "{}"))).as("known after one refetch").isNotNull();
            assertThat(requests.get()).isEqualTo(2);
            assertThat(ok(v, b.sign("b", "{}"))).isNotNull();
            assertThat(requests.get()).as("a known kid fetches nothing").isEqualTo(2);

            assertThat(refusedAtOnce(v, b.sign("c", "{}"))).as("within minRefetch: no fetch").isEqualTo("unknown key id");
            assertThat(requests.get()).isEqualTo(2);
            nanos.addAndGet(MIN_REFETCH.toNanos() - 1);
            assertThat(refusedAtOnce(v, b.sign("c", "{}"))).isEqualTo("unknown key id");
            assertThat(requests.get()).isEqualTo(2);
            nanos.addAndGet(1);
            assertThat(refused(v, b.sign("c", "{}"))).as("after minRefetch: one more fetch").isEqualTo("unknown key id");
            assertThat(requests.get()).isEqualTo(3);
        }
    }

    @Test
    void concurrentVerificationsOfAnUnknownKidShareOneFetch() throws Exception {
        serve(a.jwk("a"));
        try (JwtVerifier v = verifier()) {
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
            gate = new CountDownLatch(1);
            serve(a.jwk("a"), b.jwk("b"));
            String token = b.sign("b", "{}");
            List<CompletableFuture<Claims>> pending = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                pending.add(v.verify(token, NOW).toCompletableFuture());
            }
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<CompletableFuture<CompletableFuture<Claims>>> fromThreads = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    fromThreads.add(CompletableFuture.supplyAsync(() -> v.verify(token, NOW).toCompletableFuture(), callers));
                }
                for (CompletableFuture<CompletableFuture<Claims>> f : fromThreads) {
                    pending.add(f.get(10, SECONDS));
                }
            } finally {
                callers.shutdown();
            }
            assertThat(pending).allMatch(f -> !f.isDone());
            gate.countDown();
            for (CompletableFuture<Claims> f : pending) {
                assertThat(f.get(10, SECONDS)).isNotNull();
            }
            assertThat(requests.get()).as("the first fetch and one shared refetch").isEqualTo(2);
        }
    }

    @Test
    void keyRotation() throws Exception {
        serve(a.jwk("a"));
        try (JwtVerifier v = verifier(Duration.ofMillis(50))) {
            String tokenA = a.sign("a", "{}");
            String tokenB = b.sign("b", "{}");
            assertThat(ok(v, tokenA)).isNotNull();
            serve(a.jwk("a"), b.jwk("b"));
            int before = requests.get();
            assertThat(ok(v, tokenB)).as("B after a refetch (or a refresh)").isNotNull();
            assertThat(requests.get()).isGreaterThan(before);
            assertThat(ok(v, tokenA)).isNotNull();
            serve(b.jwk("b"));
            // the fetch in flight may have read the old set; the one after it reads the new one
            v.afterNextFetch().get(10, SECONDS);
            v.afterNextFetch().get(10, SECONDS);
            assertThat(refused(v, tokenA)).isEqualTo("unknown key id");
            assertThat(ok(v, tokenB)).isNotNull();
        }
    }

    @Test
    void serverDownKeepsTheOldKeys() throws Exception {
        serve(a.jwk("a"));
        try (JwtVerifier v = verifier()) {
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
            server.stop(0);
            assertThat(refused(v, b.sign("b", "{}"))).isEqualTo("unknown key id");
            assertThat(warnings()).anyMatch(w -> w.contains("fetch failed") && w.contains("keeping the 1 previous keys"));
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
        }
    }

    @Test
    void errorStatusKeepsTheOldKeys() throws Exception {
        serve(a.jwk("a"));
        try (JwtVerifier v = verifier()) {
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
            status = 503;
            assertThat(refused(v, b.sign("b", "{}"))).isEqualTo("unknown key id");
            assertThat(warnings()).anyMatch(w -> w.contains("HTTP status 503"));
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
        }
    }

    @Test
    void oversizedOrNonJsonSetsKeepTheOldKeys() throws Exception {
        serve(a.jwk("a"));
        try (JwtVerifier v = verifier()) {
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
            JWKSet big = new JWKSet(List.of(b.jwk("b")), java.util.Map.of("padding", "x".repeat(JwtVerifier.MAX_JWKS_BYTES)));
            body = big.toString();
            assertThat(refused(v, b.sign("b", "{}"))).as("b is in the oversized set").isEqualTo("unknown key id");
            assertThat(warnings()).anyMatch(w -> w.contains("larger than 1048576 bytes"));
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();

            body = "<html>keys</html>";
            nanos.addAndGet(MIN_REFETCH.toNanos());
            assertThat(refused(v, b.sign("b", "{}"))).isEqualTo("unknown key id");
            assertThat(warnings()).anyMatch(w -> w.contains("not a JWK set"));
            assertThat(ok(v, a.sign("a", "{}"))).isNotNull();

            serve(new OctetSequenceKey.Builder(new byte[32]).keyID("s").build());
            nanos.addAndGet(MIN_REFETCH.toNanos());
            assertThat(refused(v, b.sign("b", "{}"))).isEqualTo("unknown key id");
            assertThat(warnings()).anyMatch(w -> w.contains("no usable signing key"));
            assertThat(ok(v, a.sign("a", "{}"))).as("a set with nothing usable changes nothing").isNotNull();
            assertThat(requests.get()).isEqualTo(4);
        }
    }

    @Test
    void beforeAnySuccessfulFetchTheKeysAreNotAvailable() throws Exception {
        status = 500;
        try (JwtVerifier v = verifier()) {
            assertThat(refused(v, a.sign("a", "{}"))).isEqualTo("the signing keys are not available");
            assertThat(refused(v, a.sign("{}"))).isEqualTo("the signing keys are not available");
            assertThat(warnings()).anyMatch(w -> w.contains("no signing keys yet"));
            status = 200;
            serve(a.jwk("a"));
            nanos.addAndGet(MIN_REFETCH.toNanos());
            assertThat(ok(v, a.sign("a", "{}"))).as("an unknown kid fetches again").isNotNull();
        }
    }

    @Test
    void verifyNeverBlocksTheCallingThread() throws Exception {
        serve(a.jwk("a"));
        gate = new CountDownLatch(1);
        try (JwtVerifier v = verifier()) {
            CompletableFuture<Claims> waiting = v.verify(a.sign("a", "{\"mercure\":{\"subscribe\":[\"*\"]}}"), NOW).toCompletableFuture();
            CompletableFuture<Claims> malformed = v.verify("abc", NOW).toCompletableFuture();
            assertThat(waiting).as("the first fetch is held by the server").isNotDone();
            assertThat(malformed).as("nothing to wait for").isCompletedExceptionally();
            gate.countDown();
            assertThat(waiting.get(10, SECONDS).subscribe()).containsExactly("*");
            assertThat(v.verify(a.sign("a", "{}"), NOW).toCompletableFuture()).as("keys at hand: answered at once").isDone();
        }
    }

    @Test
    void closeStopsTheRefreshAndIsIdempotent() throws Exception {
        serve(a.jwk("a"));
        JwtVerifier v = verifier(Duration.ofMillis(20));
        assertThat(ok(v, a.sign("a", "{}"))).isNotNull();
        v.close();
        v.close();
        assertThat(ok(v, a.sign("a", "{}"))).as("keys at hand still verify").isNotNull();
        nanos.addAndGet(MIN_REFETCH.toNanos());
        assertThat(refused(v, b.sign("b", "{}"))).isEqualTo("unknown key id");
        assertThat(warnings()).anyMatch(w -> w.contains("the verifier is closed"));
    }
}
