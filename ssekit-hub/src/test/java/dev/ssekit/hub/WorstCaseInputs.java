package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.NOW;
import static dev.ssekit.hub.JwtVerifierTest.b64;
import static dev.ssekit.hub.JwtVerifierTest.hs256;
import static dev.ssekit.hub.JwtVerifierTest.tokenUnchecked;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import dev.ssekit.TopicSelector;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The worst input of each kind the hub and the library parse, at the limit that applies to it
 * (issue #17, "every input time-bounded"): {@link InputWorstCaseTest} measures each, {@link
 * InputBoundsTest} fuzzes around them. A request is decided by a {@link MercureProtocol} set up
 * as {@code HubMain} sets it up with default options; the transport's limits are Netty's, which
 * {@code HubHostileInputTest} checks over sockets.
 */
final class WorstCaseInputs {

    /** Netty's {@code HttpServerCodec} default for the request line (method, target, version): longer is 414. */
    static final int REQUEST_LINE = 4096;
    /**
     * Netty's default for the request's headers: HTTP/1.1 {@code maxHeaderSize} (more is 431) and
     * HTTP/2's max header list size, which also holds the {@code :path}, so a query may be this
     * long over HTTP/2.
     */
    static final int HEADER_BLOCK = 8192;
    /** {@code --max-topics} by default. */
    static final int MAX_TOPICS = 1000;
    /** {@code --max-body-bytes} by default. */
    static final int MAX_BODY = 1 << 20;
    /** The client's default {@code maxEventSize}. */
    static final int MAX_EVENT = 8 << 20;
    static final String APP = "https://app.example.com";
    /** The densest template the hub takes: 10 expressions that each take any character. */
    static final String DENSE = "{+a}{+b}{+c}{+d}{+e}{+f}{+g}{+h}{+i}{+j}";

    /** Distinct templates for a token's subscribe claim, as JSON strings followed by commas. */
    private static final String SELECTORS = fill("\"{a}N\",", 4200);
    /** A Last-Event-ID of 8 KiB of UTF-8 (the header block's bound). */
    static final String LAST_EVENT_ID = fill("€", (HEADER_BLOCK - 100) / 3);

    private WorstCaseInputs() {
    }

    /** A protocol with the hub's default limits over an HMAC key, its broadcaster and its subscriptions. */
    record Hub(MercureProtocol protocol, Broadcaster broadcaster, Subscriptions subscriptions) implements AutoCloseable {

        static Hub start() {
            Broadcaster b = Broadcaster.create();
            JwtVerifier key = JwtVerifier.secret(KEY);
            HubConfig config = new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(APP), MAX_BODY, MAX_TOPICS,
                    15_000, true, false, "", Duration.ofSeconds(10), Optional.empty());
            Subscriptions s = new Subscriptions(b, true);
            return new Hub(new MercureProtocol(config, b, s, new TopicSelectorStore(MercureHub.SELECTOR_CACHE), Scheduler.system(),
                    Clock.fixed(NOW, ZoneOffset.UTC)), b, s);
        }

        @Override
        public void close() {
            broadcaster.close();
            subscriptions.close();
        }
    }

    /** A request; {@code path} is {@code rawPath} (the inputs here need no decoding to be routed). */
    static HubRequest request(String method, String rawPath, String rawQuery, byte[] body, String... headerPairs) {
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i].toLowerCase(Locale.ROOT), headerPairs[i + 1]);
        }
        return new HubRequest(method, rawPath, rawPath, rawQuery, headers, body);
    }

    static HubRequest subscribe(String rawQuery, String... headers) {
        return request("GET", MercureProtocol.PATH, rawQuery, new byte[0], headers);
    }

    static HubRequest publish(String token, byte[] body) {
        return request("POST", MercureProtocol.PATH, "", body, "Authorization", "Bearer " + token,
                "Content-Type", "application/x-www-form-urlencoded");
    }

    /** The status of a decision (200 for a stream, whose slot is then given back), waiting for it at most 10 s. */
    static int status(CompletionStage<MercureProtocol.Decision> stage) {
        MercureProtocol.Decision d;
        try {
            d = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        if (d instanceof MercureProtocol.Stream s) {
            s.abandon();
            return 200;
        }
        return ((MercureProtocol.Reply) d).response().status();
    }

    /** {@code text} repeated (with a counter where it holds {@code N}) while it fits in {@code budget} characters. */
    static String fill(String text, int budget) {
        StringBuilder b = new StringBuilder(budget);
        for (int i = 0;; i++) {
            String next = text.replace("N", Integer.toString(i));
            if (b.length() + next.length() > budget) {
                return b.toString();
            }
            b.append(next);
        }
    }

    /** How often {@code what} occurs in {@code s}. */
    static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    /** {@code [[[…]]]} nested {@code depth} deep. */
    static String nested(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }

    // ---- the cases

    /**
     * One input at its worst: what it is, the worst case, the limit that bounds it, the test that
     * keeps it bounded, and a trial that builds it (untimed), parses it ({@link Trial#run}, timed)
     * and checks the answer.
     */
    record Case(String input, String worst, String limit, String test, java.util.function.Supplier<Trial> trial) {
    }

    /** One parse of a worst case. */
    interface Trial extends AutoCloseable {
        /** The parse, the part that is timed; returns what {@link #check} looks at. */
        Object run() throws Exception;

        /** Asserts the answer. */
        void check(Object result);

        @Override
        default void close() {
        }
    }

    /** A request decided by a fresh hub (so every selector is compiled, none cached), expected to get {@code status}. */
    static Trial decided(java.util.function.Function<Hub, HubRequest> build, int status) {
        Hub hub = Hub.start();
        HubRequest req = build.apply(hub);
        return new Trial() {
            @Override
            public Object run() {
                return hub.protocol().handle(req);
            }

            @Override
            @SuppressWarnings("unchecked")
            public void check(Object result) {
                assertThat(status((CompletionStage<MercureProtocol.Decision>) result)).isEqualTo(status);
            }

            @Override
            public void close() {
                hub.close();
            }
        };
    }

    /** A computation whose result must be {@code expected}. */
    static Trial call(java.util.concurrent.Callable<Object> run, Object expected) {
        return new Trial() {
            @Override
            public Object run() throws Exception {
                return run.call();
            }

            @Override
            public void check(Object result) {
                assertThat(result).isEqualTo(expected);
            }
        };
    }

    /** A subscribe query of {@code HEADER_BLOCK} characters at most (the HTTP/2 bound; HTTP/1.1's is 4 KiB). */
    static String query(String field) {
        String q = fill(field, HEADER_BLOCK - "/.well-known/mercure?".length());
        return q.endsWith("&") ? q.substring(0, q.length() - 1) : q;
    }

    /** A template of {@code TopicSelectorStore.MAX_LENGTH} characters with the most expressions, all {@code {+x}}. */
    static String longestDenseTemplate() {
        return "https://example.com/" + DENSE + "x".repeat(TopicSelectorStore.MAX_LENGTH - 20 - DENSE.length());
    }

    /** An 8 MiB stream of one shape, parsed by a parser bounded at 8 MiB; returns the events it gave. */
    static Trial stream(byte[] bytes) {
        return call(() -> {
            long[] events = {0};
            SseParser p = SseParser.create(new SseParser.Handler() {
                @Override
                public void onEvent(SseEvent e) {
                    events[0]++;
                }
            }, "", MAX_EVENT);
            p.feed(bytes);
            return events[0] > 0;
        }, true);
    }

    static List<Case> all() {
        List<Case> cases = new ArrayList<>();
        String subscriber = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"*\"]}}");
        cases.add(new Case("query string: fields", "8 KiB of one-letter fields (`a&a&…`)",
                "fields ≤ max topics + 16 (1,016): 400 at the 1,017th", "InputBoundsTest.queries",
                () -> decided(h -> subscribe(query("a&")), 400)));
        cases.add(new Case("query string: topics", "8 KiB of distinct exact topics (`topic=N&`, " + count(query("topic=N&"), "topic=")
                + " of them)",
                "≤ 1,000 topics (`--max-topics`), else 400; 4 KiB request line (414) over HTTP/1.1, 8 KiB over HTTP/2",
                "InputBoundsTest.queries", () -> decided(h -> subscribe(query("topic=N&")), 200)));
        cases.add(new Case("query string: percent-escapes", "one topic of 8 KiB of `%E2%82%AC` (" + count(fill("%E2%82%AC", HEADER_BLOCK - 30), "%E2") + " €)",
                "bytes must be UTF-8 (400); topic ≤ 2,048 characters (400)", "InputBoundsTest.queries",
                () -> decided(h -> subscribe("topic=" + fill("%E2%82%AC", HEADER_BLOCK - 30)), 200)));
        cases.add(new Case("topic selectors: many templates", "8 KiB of distinct templates (`topic=N{a}&`, " + count(query("topic=N{a}&"), "{a}")
                + " of them), none cached",
                "≤ 1,000 topics; each compiled once into a cache of 10,000", "InputBoundsTest.selectorsAndTemplates",
                () -> decided(h -> subscribe(query("topic=N{a}&")), 200)));
        cases.add(new Case("topic selectors: one long template", "2,048 characters, 10 `{+x}` expressions",
                "≤ 2,048 characters and ≤ 10 expressions, else 400", "InputBoundsTest.selectorsAndTemplates, TopicMatcherTest",
                () -> decided(h -> subscribe("topic=" + longestDenseTemplate().replace("+", "%2B")), 200)));
        TopicMatcher dense = TopicMatcher.of(longestDenseTemplate());
        String topic = "https://example.com/" + "x".repeat(TopicSelectorStore.MAX_LENGTH - 20);
        cases.add(new Case("template match (each publish, once per distinct template)",
                "the 2,048-character 10-expression template against a 2,048-character topic", "as above; RE2/J (linear)",
                "TopicMatcherTest", () -> call(() -> dense.matches(topic), true)));
        TopicSelector stars = TopicSelector.glob("*".repeat(TopicSelectorStore.MAX_LENGTH));
        String aaa = "a".repeat(TopicSelectorStore.MAX_LENGTH);
        cases.add(new Case("glob (ssekit-core `TopicSelector.glob`)", "2,048 stars against 2,048 characters",
                "none in the library: O(topic × glob) (the application bounds both); shown at the hub's 2,048",
                "GlobWorstCaseTest, TopicSelectorTest", () -> call(() -> stars.matches(aaa), true)));
        String publisher = tokenUnchecked("{\"mercure\":{\"publish\":[\"*\"]}}");
        cases.add(new Case("form (publish body): percent-escapes", "1 MiB: a topic and `data` of `%E2%82%AC` (" + count(fill("%E2%82%AC", MAX_BODY - 13), "%E2") + " €)",
                "body ≤ 1 MiB (`--max-body-bytes`, 413)", "InputBoundsTest.forms",
                () -> decided(h -> publish(publisher, ("topic=x&data=" + fill("%E2%82%AC", MAX_BODY - 13)).getBytes(UTF_8)), 200)));
        String templatePublisher = tokenUnchecked("{\"mercure\":{\"publish\":[\"" + DENSE + "\"]}}");
        cases.add(new Case("form (publish body): topics", "1 MiB: 1,000 topics of 1,040 characters, each matched against a "
                + "10-expression `{+x}` claim", "≤ 1,000 topics, each ≤ 2,048 characters; fields ≤ 1,016", "InputBoundsTest.forms",
                () -> decided(h -> publish(templatePublisher, publishTopics()), 200)));
        cases.add(new Case("form (publish body): separators", "1 MiB of `&`", "body ≤ 1 MiB; empty fields are skipped, not counted",
                "InputBoundsTest.forms", () -> decided(h -> publish(publisher, "&".repeat(MAX_BODY).getBytes(UTF_8)), 400)));
        cases.add(new Case("JWT header (before the signature is checked)", "an 8 KiB token whose header nests 255 deep",
                "token ≤ 8,192 characters (`JwtVerifier.MAX_TOKEN_LENGTH`, 401); JSON ≤ 255 deep (nimbus, 401)",
                "InputBoundsTest.jwtHeaders", () -> decided(h -> subscribe("topic=x", "Authorization", "Bearer " + deepHeaderToken()), 401)));
        cases.add(new Case("JWT header: many members", "an 8 KiB token whose header has " + (count(wideHeaderJson(), "\":") + " members"), "as above",
                "InputBoundsTest.jwtHeaders", () -> decided(h -> subscribe("topic=x", "Authorization", "Bearer " + wideHeaderToken()), 401)));
        cases.add(new Case("JWT claims (signed)", "an 8 KiB token: " + count(SELECTORS, "{a}") + " distinct `mercure.subscribe` templates, "
                + "`mercure.payload` nested 200 deep", "as above", "InputBoundsTest.jwtClaims",
                () -> decided(h -> subscribe("topic=x", "Authorization", "Bearer " + heavyClaimsToken()), 200)));
        cases.add(new Case("cookies", "an 8 KiB `Cookie` header: " + (count(cookies(subscriber), "=")) + " cookies, `mercureAuthorization` last",
                "≤ 8 KiB of headers (431)", "InputBoundsTest.cookies",
                () -> decided(h -> subscribe("topic=x", "Cookie", cookies(subscriber), "Origin", APP), 200)));
        cases.add(new Case("`Last-Event-ID`", "8 KiB of UTF-8 (`€` × " + LAST_EVENT_ID.length() + "), unknown to the history",
                "≤ 8 KiB of headers (431); a published id ≤ 2,048 characters (400)", "InputBoundsTest.lastEventIds",
                () -> decided(h -> subscribe("topic=x", "Last-Event-ID", new String(LAST_EVENT_ID.getBytes(UTF_8), ISO_8859_1)), 200)));
        cases.add(new Case("subscriptions API path", "`/subscriptions/{" + apiTemplate().length() + "-character 10-expression "
                + "template}` (the path at 2,048), matched against 1,000 active subscriptions",
                "the raw path ≤ 2,048 characters, as the token's claim must match it (else 403); the listing grows with "
                + "the active subscriptions", "InputBoundsTest.subscriptionsPaths", () -> decided(h -> {
                    for (int i = 0; i < 1000; i++) {
                        h.subscriptions().activate(h.subscriptions().reserve(15_000,
                                List.of("https://example.com/books/" + i + "/" + "x".repeat(100)), Optional.empty()).orElseThrow());
                    }
                    String reader = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"" + Subscriptions.PATH + "{/topic}{/subscriber}\"]}}");
                    String path = Subscriptions.PATH + "/" + Subscriptions.encode(apiTemplate());
                    return request("GET", path, "", new byte[0], "Authorization", "Bearer " + reader);
                }, 200)));
        cases.add(new Case("SSE stream (client): tiny events", "8 MiB of `data:x` + blank line (1 M events)",
                "`maxEventSize` (8 MiB default) per line and per event; StreamTooLargeException beyond", "SseParserWorstCaseTest",
                () -> stream("data:x\n\n".repeat(MAX_EVENT / 8).getBytes(UTF_8))));
        cases.add(new Case("SSE stream (client): ill-formed UTF-8", "one event of 8 MiB of `ED A0` (one U+FFFD a byte)", "as above",
                "SseParserWorstCaseTest", () -> {
                    byte[] b = new byte[MAX_EVENT];
                    byte[] head = "data:".getBytes(UTF_8);
                    System.arraycopy(head, 0, b, 0, head.length);
                    for (int i = head.length; i < b.length - 2; i++) {
                        b[i] = (i & 1) == 0 ? (byte) 0xED : (byte) 0xA0;
                    }
                    b[b.length - 2] = '\n';
                    b[b.length - 1] = '\n';
                    return stream(b);
                }));
        cases.add(new Case("SSE stream (client): lone CRs", "8 MiB of CR after one event", "as above", "SseParserWorstCaseTest",
                () -> stream(("data:x\n\n" + "\r".repeat(MAX_EVENT - 8)).getBytes(UTF_8))));
        return cases;
    }

    /** The longest 10-expression template whose subscriptions API path is within the 2,048 characters a claim can match. */
    static String apiTemplate() {
        String t = "https://example.com/" + DENSE;
        int room = TopicSelectorStore.MAX_LENGTH - (Subscriptions.PATH + "/" + Subscriptions.encode(t)).length();
        return t + "x".repeat(room);
    }

    /** A publish form of 1 MiB: 1,000 topics of 1,040 characters. */
    static byte[] publishTopics() {
        StringBuilder b = new StringBuilder(MAX_BODY);
        for (int i = 0; i < MAX_TOPICS; i++) {
            String t = "https://example.com/" + i + "/";
            b.append(b.isEmpty() ? "" : "&").append("topic=").append(t).append("x".repeat(1040 - t.length()));
        }
        assertThat(b.length()).isLessThanOrEqualTo(MAX_BODY);
        return b.toString().getBytes(UTF_8);
    }

    /** A token of about 8 KiB whose header nests 255 deep (nimbus's limit), with a bad signature. */
    static String deepHeaderToken() {
        String header = "{\"alg\":\"HS256\",\"x\":" + nested(254) + ",\"pad\":\"" + "p".repeat(5400) + "\"}";
        return b64(header) + "." + b64("{}") + "." + b64("not the signature");
    }

    /** A token of about 8 KiB whose header has as many short members as fit. */
    static String wideHeaderToken() {
        return b64(wideHeaderJson()) + "." + b64("{}") + "." + b64("not the signature");
    }

    static String wideHeaderJson() {
        return "{" + fill("\"kN\":0,", 5900) + "\"alg\":\"HS256\"}";
    }

    /** A validly signed token of about 8 KiB: many distinct subscribe templates and a deep payload. */
    static String heavyClaimsToken() {
        String payload = "{\"mercure\":{\"subscribe\":[" + SELECTORS + "\"*\"],\"payload\":" + nested(200) + "}}";
        try {
            return hs256("{\"alg\":\"HS256\"}", payload, KEY);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A Cookie header of about 8 KiB: many cookies, then the token. */
    static String cookies(String token) {
        return fill("cN=v; ", HEADER_BLOCK - 200 - token.length()) + Authorizer.COOKIE + "=" + token;
    }
}
