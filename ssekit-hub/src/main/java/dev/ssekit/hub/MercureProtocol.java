package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.TopicSelector;
import dev.ssekit.spi.EventTooLargeException;
import dev.ssekit.spi.LastEventIds;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The Mercure protocol (draft-dunglas-mercure-07, with the reference hub's status codes) apart
 * from any server: a {@link HubRequest} in, a {@link Decision} out, either a complete {@link
 * Reply} or a {@link Stream} to open. {@code POST /.well-known/mercure} publishes, {@code GET
 * /.well-known/mercure} subscribes, {@code OPTIONS} answers CORS preflights for allowed origins,
 * {@code GET /.well-known/mercure/subscriptions…} lists active subscriptions (when enabled); plus
 * {@code GET /healthz}, {@code GET /metrics} (with the metrics token only), in demo mode the demo page at {@code /}, and with the
 * subscriptions API the status page at {@code /status} whose figures stream from {@code
 * /status/events} (a {@link StatusFeed}; authorized as the subscriptions API).
 *
 * <p>{@link #handle} never blocks: token checks and form parsing are linear in the input's size,
 * and whatever waits (a publish being stored, keys being fetched, a Redis node catching up) completes
 * the returned stage later. Compiling a subscription's selectors (URI templates, URL patterns, a
 * token's matchers) costs CPU in proportion to the request: unless every one is already compiled and
 * no token is presented, the subscription is decided on a small pool of compiler threads of its own
 * (issue #28), never on the caller's thread. It takes no lock that a publish holds, so a server may
 * call it on an event loop. Thread-safe; one instance serves every request.
 */
final class MercureProtocol {

    static final String PATH = "/.well-known/mercure";
    private static final String STATUS_PAGE = DemoPage.resource("status.html");
    private static final String DISCOVERY = "<" + PATH + ">; rel=\"mercure\"";
    private static final System.Logger LOG = System.getLogger(MercureProtocol.class.getName());

    /** The longest published id, in bytes of UTF-8: what a subscriber sends back as Last-Event-ID. */
    static final int MAX_ID_BYTES = 2048;
    /** The longest {@code Idempotency-Key} header value accepted, in bytes (printable ASCII: one byte a character). */
    static final int MAX_IDEMPOTENCY_KEY_BYTES = 256;
    /** Prefixes a key given in the Idempotency-Key header: no id contains U+001F, so no id names it. */
    private static final String HEADER_KEY_PREFIX = "\u001fIdempotency-Key:";

    /** What to answer. */
    sealed interface Decision permits Reply, Stream {
    }

    /**
     * A complete response.
     *
     * @param response status, headers and body
     */
    record Reply(HubResponse response) implements Decision {
    }

    /**
     * An event stream to open: the server writes the response head with these headers and then
     * {@link #open}s it, on the thread that will also run the stream's close callbacks in order
     * (an event loop); or, when the client has gone meanwhile, {@link #abandon}s it. Exactly one
     * of the two must be called, once.
     *
     * @param headers the response headers besides the event-stream ones
     * @param opener registers the subscription on the started connection
     * @param release frees what the decision reserved, when the stream never starts
     */
    record Stream(Map<String, String> headers, Opener opener, Runnable release) implements Decision {

        /** Starts delivery on a started connection; see {@link Opener#open}. */
        void open(SseConnection connection, Executor serial) {
            opener.open(connection, serial);
        }

        /** The client went away before the stream started. */
        void abandon() {
            release.run();
        }
    }

    /**
     * How a server tells the protocol that a request's client left (its connection closed) before
     * the request was answered.
     */
    @FunctionalInterface
    interface Departure {

        /** For a server that cannot tell: the action never runs. */
        Departure NEVER = action -> {
        };

        /**
         * Asks that {@code action} run (once, on any thread) if the client leaves before the request's
         * decision is answered; the server drops it when the decision is answered. Called at most once
         * per request, during {@link MercureProtocol#handle}, on the thread that called it.
         */
        void onLeave(Runnable action);
    }

    /** Registers a subscription on a started connection. */
    @FunctionalInterface
    interface Opener {
        /**
         * @param connection the stream, head already written
         * @param serial runs the stream's end after its start, in order (the connection's event loop)
         */
        void open(SseConnection connection, Executor serial);
    }

    /** Where the RFC 9728 protected resource metadata of the hub is served (L1346-1393). */
    static final String METADATA_PATH = "/.well-known/oauth-protected-resource" + PATH;
    /** The most compiled 1.0 matchers kept (as {@link MercureHub}'s selector cache). */
    static final int MATCHER_CACHE = 10_000;

    private final HubConfig config;
    private final Broadcaster hub;
    private final Subscriptions subscriptions;
    private final Access access;
    private final MatcherStore matchers;
    private final ReservedTopics reserved;
    private final boolean compat;
    private final ClientLimits clients;
    /** Refusals by RFC 6750 error ("none" for a bare challenge), and by status for the others (429, 421...). */
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> refusals =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final TopicSelectorStore selectors;
    private final Scheduler scheduler;
    private final Clock clock;
    private final StatusFeed status;
    /** Drain and maximum connection age (issue #26). */
    private final ConnectionLifetime lifetime;
    /** Where subscriptions whose selectors need compiling are decided: off the event loops (issue #28). */
    private final java.util.concurrent.ThreadPoolExecutor compiler = compiler();

    /**
     * Half the processors (at least one): compiling a burst of subscriptions leaves the other half to
     * the event loops. Idle threads end after 30 s; what the queue holds is bounded by {@link
     * #MAX_PENDING_COMPILE_BYTES}.
     */
    private static java.util.concurrent.ThreadPoolExecutor compiler() {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        java.util.concurrent.ThreadPoolExecutor e = new java.util.concurrent.ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(), Thread.ofPlatform().name(COMPILER_THREAD, 0).daemon().factory());
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /** The name prefix of the threads that compile subscriptions' selectors. */
    static final String COMPILER_THREAD = "ssekit-hub-compile-";

    /**
     * The selector bytes the compiler may hold at once, queued or compiling (each subscription
     * counted at least {@link #MIN_COMPILE_COST}): 512 KiB, sixteen subscriptions that fill {@link
     * SubscribeMatchers#MAX_PATTERN_BYTES}, about 3.4 s of compiling on one thread (a 4,096-byte URL
     * pattern compiles in about 26 ms). Past it a subscription is refused at once with 503 and a
     * {@code Retry-After}: the queue, and how long anyone waits in it, stay bounded whatever
     * anonymous clients send (the adversarial review of issue #28). One subscription alone is always
     * admitted.
     */
    static final long MAX_PENDING_COMPILE_BYTES = 512 * 1024;
    /** What a subscription sent to the compiler counts at least (its token, its request). */
    static final long MIN_COMPILE_COST = 1024;
    private final java.util.concurrent.atomic.AtomicLong pendingCompileBytes = new java.util.concurrent.atomic.AtomicLong();
    /** Queued subscriptions whose compile never started: their client left first. */
    private final java.util.concurrent.atomic.LongAdder compilesCancelled = new java.util.concurrent.atomic.LongAdder();

    MercureProtocol(HubConfig config, Broadcaster hub, Subscriptions subscriptions,
            TopicSelectorStore selectors, Scheduler scheduler, Clock clock) {
        this(config, hub, subscriptions, selectors, scheduler, clock, new ConnectionLifetime(ConnectionLifetime.Settings.NONE, scheduler));
    }

    MercureProtocol(HubConfig config, Broadcaster hub, Subscriptions subscriptions,
            TopicSelectorStore selectors, Scheduler scheduler, Clock clock, ConnectionLifetime lifetime) {
        this.lifetime = lifetime;
        this.config = config;
        this.hub = hub;
        this.subscriptions = subscriptions;
        this.selectors = selectors;
        this.scheduler = scheduler;
        this.clock = clock;
        HubConfig.Protocol p = config.protocol();
        this.compat = p.compat();
        this.clients = new ClientLimits(p.maxConnectionsPerClient(), p.trustedProxies());
        String hubUrl = p.resourceId().filter(r -> r.contains("://"))
                .or(() -> p.publicUrls().stream().sorted().findFirst().map(u -> u + PATH))
                .orElse(MatcherStore.SYNTHETIC_HUB_URL);
        this.matchers = new MatcherStore(hubUrl, MATCHER_CACHE);
        this.reserved = new ReservedTopics(hubUrl);
        this.access = compat
                ? new LegacyAccess(p.issuers(), matchers, selectors, config.anonymous(), config::allowsCredentialsFrom,
                        config::allowsCookiePublishFrom, clock)
                : new ModernAccess(new AccessTokens(p.issuers(), matchers, clock), matchers, config.anonymous(),
                        config::allowsCredentialsFrom, config::allowsCookiePublishFrom, this::audience);
        this.status = new StatusFeed(hub, subscriptions, scheduler, dev.ssekit.Ticker.system(),
                task -> Thread.ofVirtual().name("ssekit-hub-status").start(task));
    }

    /** Ends the status streams (each gets a shutdown event) and stops their timer. Idempotent. */
    void close() {
        status.close();
        compiler.shutdown();
    }

    /**
     * Decides on one request. The stage always completes normally: refusals are replies with
     * their status (and are logged once, with their reason); a bug of ours is a 500 whose trace
     * goes to the log, never to the client.
     */
    CompletionStage<Decision> handle(HubRequest req) {
        return handle(req, Departure.NEVER);
    }

    /**
     * As {@link #handle(HubRequest)}, told when the client leaves: a subscription still queued for the
     * compiler is then dropped unstarted (its compile budget comes back at once) and its stage completes
     * with a 499 reply nobody reads.
     */
    CompletionStage<Decision> handle(HubRequest req, Departure departure) {
        CompletionStage<Decision> decision;
        try {
            decision = route(req, departure);
        } catch (Rejection | RuntimeException e) {
            decision = CompletableFuture.failedFuture(e);
        }
        return decision.exceptionally(error -> failure(req, error));
    }

    /** The most fields a query or form may have: every topic or matcher allowed, and 16 others. */
    private int maxFields() {
        return Math.max(config.maxTopics(), SubscribeMatchers.MAX_MATCHERS) + 16;
    }

    private CompletionStage<Decision> route(HubRequest req, Departure departure) throws Rejection {
        Map<String, List<String>> query = Forms.decode(req.rawQuery().getBytes(ISO_8859_1), maxFields());
        String path = req.path();
        String method = req.method();
        if (!config.protocol().publicUrls().isEmpty() && !path.equals("/healthz") && !path.equals("/metrics")
                && !config.protocol().publicUrls().contains(origin(req))) {
            throw new Rejection(421, "this hub does not serve " + origin(req));
        }
        if (req.rawPath().startsWith(Subscriptions.PATH) && subscriptions.enabled()) {
            return subscriptionsApi(req, query);
        } else if (path.equals(PATH) && method.equals("OPTIONS")) {
            return reply(preflight(req, "GET, POST, QUERY"));
        } else if (path.equals(PATH) && method.equals("POST")) {
            return access.publisher(req, query).thenCompose(grants -> {
                try {
                    return publish(req, grants);
                } catch (Rejection r) {
                    throw new CompletionException(r);
                }
            });
        } else if (path.equals(PATH) && (method.equals("GET") || method.equals("QUERY"))) {
            return subscribe(req, method.equals("QUERY") ? union(query, req.body()) : query, departure);
        } else if (path.equals(PATH)) {
            throw new Rejection(405, "use GET or QUERY to subscribe, POST to publish");
        } else if (path.equals(METADATA_PATH) && method.equals("GET")) {
            return reply(text(req, 200, resourceMetadata(req)).as("application/json"));
        } else if (path.equals("/healthz") && method.equals("GET")) {
            return reply(text(req, 200, "ok\n"));
        } else if (path.equals("/readyz") && method.equals("GET")) { // issue #26: see ConnectionLifetime
            return lifetime.ready(hub.log()).thenApply(ready -> new Reply(ready ? text(req, 200, "ready\n")
                    : text(req, 503, lifetime.draining() ? "draining\n" : "catching up\n")));
        } else if (path.equals("/metrics") && method.equals("GET") && Metrics.authorized(config.limits().metricsToken(),
                req.header("Authorization"))) {
            // off the public port unless a metrics token is set and sent (issue #28): see --metrics-listen
            return reply(text(req, 200, metrics()));
        } else if (path.equals("/") && method.equals("GET") && config.demo()) {
            return reply(text(req, 200, DemoPage.render(config.demoToken())).as("text/html; charset=utf-8"));
        } else if (path.equals(StatusFeed.PAGE) && method.equals("GET") && subscriptions.enabled()) {
            // the page holds no figures: it is public; its stream is not
            return reply(text(req, 200, STATUS_PAGE).as("text/html; charset=utf-8"));
        } else if (path.equals(StatusFeed.EVENTS) && method.equals("GET") && subscriptions.enabled()) {
            return statusStream(req, query);
        }
        throw new Rejection(404, "not found");
    }

    /**
     * Decides a publish on its head, before its body is read (issue #28): empty when its body may be
     * read (not a publish, or a publisher token that verifies), else the refusal to answer at once
     * (400 for a query that does not decode, 401/403 as {@link Authorizer#publisher}). The stage always
     * completes normally, at once unless a JWK set must be fetched.
     */
    CompletionStage<Optional<HubResponse>> admitPublish(HubRequest head) {
        if (!head.path().equals(PATH) || !head.method().equals("POST")) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        CompletionStage<Grants> claims;
        try {
            claims = access.publisher(head, Forms.decode(head.rawQuery().getBytes(ISO_8859_1), config.maxTopics() + 16));
        } catch (RuntimeException e) {
            claims = CompletableFuture.failedFuture(e);
        }
        return claims.<Optional<HubResponse>>thenApply(c -> Optional.empty())
                .exceptionally(error -> Optional.of(((Reply) failure(head, error)).response()));
    }

    /** The {@code /metrics} text: the broadcaster's figures, and the log's with Redis. */
    String metrics() {
        return Metrics.prometheus(hub.stats()) + Metrics.tls(config.tls()) + MercureHub.logMetrics(hub.log()) + refusalMetrics()
                + compileMetrics();
    }

    /**
     * The subscription compiler's figures: URL patterns compiled, the selector bytes waiting for it
     * (queued or compiling, against {@link #MAX_PENDING_COMPILE_BYTES}), and the queued subscriptions
     * dropped unstarted because their client left.
     */
    private String compileMetrics() {
        return "# HELP ssekit_hub_matcher_compiles_total URL patterns compiled (subscriptions' and tokens').\n"
                + "# TYPE ssekit_hub_matcher_compiles_total counter\n"
                + "ssekit_hub_matcher_compiles_total " + matchers.compiles() + "\n"
                + "# HELP ssekit_hub_compile_pending_bytes Selector bytes of subscriptions queued or compiling.\n"
                + "# TYPE ssekit_hub_compile_pending_bytes gauge\n"
                + "ssekit_hub_compile_pending_bytes " + pendingCompileBytes.get() + "\n"
                + "# HELP ssekit_hub_compiles_cancelled_total Queued subscription compiles dropped because the client left first.\n"
                + "# TYPE ssekit_hub_compiles_cancelled_total counter\n"
                + "ssekit_hub_compiles_cancelled_total " + compilesCancelled.sum() + "\n";
    }

    /** {@code ssekit_hub_auth_refusals_total{error=...}}: the requests refused with an RFC 6750 challenge, by error. */
    private String refusalMetrics() {
        StringBuilder b = new StringBuilder("# HELP ssekit_hub_auth_refusals_total Requests refused with a WWW-Authenticate challenge,"
                + " by RFC 6750 error (none: no token was sent).\n# TYPE ssekit_hub_auth_refusals_total counter\n");
        for (String error : List.of("invalid_request", "invalid_token", "insufficient_scope", "none")) {
            java.util.concurrent.atomic.LongAdder n = refusals.get(error);
            b.append("ssekit_hub_auth_refusals_total{error=\"").append(error).append("\"} ").append(n == null ? 0 : n.sum()).append('\n');
        }
        return b.toString();
    }

    private Decision failure(HubRequest req, Throwable error) {
        Throwable e = Rejection.cause(error);
        if (e instanceof Rejection r) {
            LOG.log(Level.INFO, "{0} {1} rejected: {2} {3}", req.method(), req.path(), r.status, r.getMessage());
            HubResponse response = text(req, r.status, r.getMessage() + "\n");
            if (r.status == 503 || r.status == 504 || r.status == 429) {
                response.headers().put("Retry-After", Integer.toString(r.retryAfterSeconds));
            }
            String challenge = r.challenge(metadataUrl(req));
            if (challenge != null) {
                response.headers().put("WWW-Authenticate", challenge);
                refusals.computeIfAbsent(r.bearerError.isEmpty() ? "none" : r.bearerError,
                        k -> new java.util.concurrent.atomic.LongAdder()).increment();
            }
            return new Reply(response);
        }
        if (e instanceof java.util.concurrent.CancellationException) {
            // the client left before its subscription was compiled: nobody reads this (nginx's 499 in the access log)
            LOG.log(Level.DEBUG, "{0} {1}: the client left before its subscription was compiled", req.method(), req.path());
            return new Reply(text(req, 499, "client closed the request\n"));
        }
        if (e instanceof IllegalArgumentException) {
            // malformed percent-encoding, too many fields, a topic over the size limit
            LOG.log(Level.INFO, "{0} {1} rejected: 400 {2}", req.method(), req.path(), e.getMessage());
            return new Reply(text(req, 400, "malformed request: " + e.getMessage() + "\n"));
        }
        LOG.log(Level.ERROR, "internal error answering " + req.method() + " " + req.path(), e);
        return new Reply(text(req, 500, "internal error\n"));
    }

    private CompletionStage<Decision> publish(HubRequest req, Grants grants) throws Rejection {
        if (hub.isBacklogged()) {
            // delivery to subscribers is a full backlog behind: publishing now would hold this request
            // (and its memory) until it catches up; the publisher retries instead (issue #15)
            throw new Rejection(503, "subscribers' delivery is behind; retry shortly", 1);
        }
        Map<String, List<String>> form = Forms.decode(req.body(), config.maxTopics() + 16);
        List<String> topics = topics(form);
        // the reserved namespace and * are 400 whatever the token (L365-383; the reference hub checks the
        // grant first and answers 403 when the token does not grant the topic: we follow the spec)
        for (String topic : topics) {
            if (topic.equals("*")) {
                throw new Rejection(400, "* is not a topic: it matches every topic");
            }
            if (reserved.reserved(topic) || (compat && (topic.startsWith(PATH + "/") || topic.contains(PATH + "/subscriptions")))) {
                throw new Rejection(400, "topics under " + PATH + " are reserved for the hub");
            }
        }
        for (String topic : topics) {
            if (!grants.mayPublish(topic)) {
                throw Rejection.insufficientScope("the token may not publish to this topic");
            }
        }
        SseMessage.Builder message = SseMessage.builder().data(first(form, "data").orElse(""));
        Optional<String> id = first(form, "id").filter(i -> !i.isEmpty()); // empty: the hub assigns one, as the reference hub
        if (id.isPresent()) {
            noControl("id", id.get());
            text("id", id.get());
            if (id.get().startsWith("#")) {
                throw new Rejection(400, "id must not start with #");
            }
            if (id.get().equals(Broadcaster.EARLIEST)) {
                throw new Rejection(400, "id must not be " + Broadcaster.EARLIEST + ": subscribers ask for all history with it");
            }
            if (utf8Length(id.get()) > MAX_ID_BYTES) {
                // subscribers send it back as Last-Event-ID, UTF-8 encoded: it must fit the 8 KiB request
                // head beside a token and a browser's headers
                throw new Rejection(400, "id must be at most " + MAX_ID_BYTES + " bytes of UTF-8");
            }
            message.id(id.get());
        }
        Optional<String> type = first(form, "type");
        if (type.isPresent()) {
            noControl("type", type.get());
            text("type", type.get());
            if (type.get().equals("mercure")) {
                throw new Rejection(400, "type mercure is reserved for the hub's own events");
            }
            message.event(type.get());
        }
        Optional<String> retry = first(form, "retry");
        if (retry.isPresent()) {
            String r = retry.get();
            if (r.isEmpty() || r.length() > 18 || !r.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new Rejection(400, "retry must be an unsigned integer");
            }
            message.retry(Duration.ofMillis(Long.parseLong(r)));
        }
        // the idempotency key (issue #29). Mercure 1.0 ids are not unique (a hub accepts a reused id
        // and delivers every update), so in 1.0 mode the key is the Idempotency-Key header
        // (draft-ietf-httpapi-idempotency-key-header), else one per request, never the id. In
        // compatibility mode: the header if sent, else the publisher's id, else one per request (0.x
        // publishers retry with id=<key>). A retry with the key after an unknown outcome is answered
        // with the first outcome, not stored twice.
        Optional<String> header = idempotencyKey(req);
        boolean byHeader = header.isPresent() || !compat;
        String given = header.orElseGet(() -> compat ? id.orElse(null) : null);
        String shown = given != null ? given : "urn:uuid:" + java.util.UUID.randomUUID();
        // keys told as a header (the publisher's, and the one assigned in 1.0 mode, which the 504
        // tells it to send as the header) in a namespace of their own: an id cannot contain U+001F,
        // so a 0.x id never names a header key (nodes of both modes may share one Redis)
        String key = byHeader ? HEADER_KEY_PREFIX + shown : shown;
        String retryWith = byHeader ? "the header Idempotency-Key: " + shown : "id=" + shown;
        String named = byHeader ? "Idempotency-Key: " + shown : "id=" + shown;
        return MercureHub.publish(hub, message.build(), topics, form.containsKey("private"), key).handle((eventId, error) -> {
            if (error == null) {
                return new Reply(text(req, 200, eventId));
            }
            Throwable cause = Rejection.cause(error);
            if (cause instanceof EventTooLargeException tooLarge) {
                // larger than the history can store and read back: the publisher's to shrink, not to retry
                throw new CompletionException(new Rejection(413, tooLarge.getMessage()));
            }
            if (cause instanceof dev.ssekit.spi.AppendOutcomeUnknownException) {
                // sent to Redis, no answer: it may be stored (and then delivered); only a retry with
                // the same key can tell without publishing it twice
                LOG.log(Level.ERROR, "publish outcome unknown: {0}", cause.toString());
                throw new CompletionException(new Rejection(504, "outcome unknown: the update may or may not have been "
                        + "stored; retry with " + retryWith + " to publish it once", 1));
            }
            if (cause instanceof dev.ssekit.spi.IdempotencyKeyConflictException conflict) {
                // the key names an earlier update with other content: not a retry of it; nothing stored
                throw new CompletionException(new Rejection(409, named + " already names another update (stored as "
                        + conflict.storedId() + ", with other data, type, retry, topics or private flag); nothing published: "
                        + "publish this update with another " + (byHeader ? "Idempotency-Key" : "id")));
            }
            // the history could not store it (disk full, read-only, Redis away): refused, never half-published
            LOG.log(Level.ERROR, "publish refused: {0}", cause.toString());
            throw new CompletionException(new Rejection(503, "the hub cannot store updates right now"));
        });
    }

    private CompletionStage<Decision> subscribe(HubRequest req, Map<String, List<String>> query, Departure departure)
            throws Rejection {
        if (lifetime.draining()) { // issue #26: the load balancer sends the retry to another node
            throw new Rejection(503, DRAINING, 1);
        }
        boolean credentials = credentials(req, query);
        if (!credentials && !config.anonymous()) {
            // RFC 6750's bare challenge at once: a client without a token costs no compile, no place in the queue
            throw Rejection.noToken("a subscriber token is required");
        }
        long uncompiled = compileCost(query);
        if (uncompiled == 0 && !credentials) {
            return decideSubscription(req, query, () -> { }); // nothing to compile: on the caller's thread
        }
        // selectors to compile, or a token whose matchers may need it: on the compiler's threads, so the
        // event loop goes on answering (issue #28). Nothing is reserved before the decision: a client that
        // leaves meanwhile gets its stream abandoned by the server, which frees what the decision reserved.
        long cost = Math.max(MIN_COMPILE_COST, uncompiled);
        long before = pendingCompileBytes.getAndAdd(cost);
        if (before > 0 && before + cost > MAX_PENDING_COMPILE_BYTES) {
            pendingCompileBytes.addAndGet(-cost);
            throw new Rejection(503, "too many subscriptions waiting to be compiled; retry", 1);
        }
        java.util.concurrent.atomic.AtomicBoolean owed = new java.util.concurrent.atomic.AtomicBoolean(true);
        Runnable release = () -> {
            if (owed.compareAndSet(true, false)) {
                pendingCompileBytes.addAndGet(-cost); // compiled, refused or dropped: the budget comes back, once
            }
        };
        CompletableFuture<Decision> result = new CompletableFuture<>();
        // queued -> started (the compile runs to its end) or queued -> dropped (the client left first)
        java.util.concurrent.atomic.AtomicInteger state = new java.util.concurrent.atomic.AtomicInteger(QUEUED);
        Runnable task = () -> {
            if (!state.compareAndSet(QUEUED, STARTED)) {
                return; // dropped while queued
            }
            try {
                decideSubscription(req, query, release).whenComplete((d, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        result.complete(d);
                    }
                });
            } catch (RuntimeException e) {
                release.run();
                result.completeExceptionally(e);
            }
        };
        try {
            compiler.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            release.run();
            throw new Rejection(503, "the hub is shutting down; retry", 1);
        }
        // a client that leaves before its compile starts costs no compile, and holds no budget (issue #24's review)
        departure.onLeave(() -> {
            if (state.compareAndSet(QUEUED, DROPPED)) {
                compiler.remove(task);
                release.run();
                compilesCancelled.increment();
                result.cancel(false);
            }
        });
        return result;
    }

    /** The answer to a subscription while the node drains (issue #26). */
    private static final String DRAINING = "this node is shutting down; retry";
    /** States of a subscription sent to the compiler. */
    private static final int QUEUED = 0;
    private static final int STARTED = 1;
    private static final int DROPPED = 2;

    /**
     * The bytes of a subscription's selectors that are not compiled yet (what compiling it costs; 0
     * when each is cached). Reads only the query and the caches: cheap on an event loop.
     */
    private long compileCost(Map<String, List<String>> query) {
        long bytes = 0;
        for (String value : query.getOrDefault("match_urlpattern", List.of())) {
            if (!matchers.cached(new Matcher(Matcher.URLPATTERN, value))) {
                bytes += value.length();
            }
        }
        if (compat) {
            for (String value : query.getOrDefault("topic", List.of())) {
                if (!selectors.cached(value)) {
                    bytes += value.length();
                }
            }
        }
        return bytes;
    }

    /**
     * Whether the request presents credentials: a token (its matchers may need compiling) is read
     * on the compiler's threads.
     */
    private static boolean credentials(HubRequest req, Map<String, List<String>> query) {
        return req.header("Authorization") != null || req.header("Cookie") != null || query.containsKey("authorization");
    }

    /** What a subscription asks, its selectors compiled, and the grants of its token. */
    private record Plan(List<Matcher> matchers, List<String> legacyTopics, List<TopicSelector> wanted, Optional<Grants> claims,
            Optional<String> lastId, boolean cursor) {
    }

    /**
     * Decides a subscription: verifies its token first (a missing or invalid one is refused with RFC
     * 6750's answer before anything is compiled, the reference hub's order: auth, then matcher errors),
     * then parses and compiles its selectors, then plans its stream.
     *
     * @param compiled run once the selectors are compiled or refused (frees the compile budget)
     */
    private CompletionStage<Decision> decideSubscription(HubRequest req, Map<String, List<String>> query, Runnable compiled) {
        CompletableFuture<Optional<Grants>> auth;
        try {
            auth = access.subscriberOrAnonymous(req, query).toCompletableFuture();
        } catch (RuntimeException e) {
            auth = CompletableFuture.failedFuture(e);
        }
        java.util.function.Function<Optional<Grants>, Plan> compile = claims -> {
            try {
                return plan(req, query, claims);
            } catch (Rejection r) {
                throw new CompletionException(r);
            }
        };
        // the token verified at once (the usual case): compiled on this thread (a compiler's, or the caller's
        // when nothing needs compiling); after a key fetch: on the compiler's threads, not the fetch's
        CompletableFuture<Plan> planned = auth.isDone() ? auth.thenApply(compile) : auth.thenApplyAsync(compile, task -> {
            try {
                compiler.execute(task);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                task.run(); // shutting down: decided here, and discarded
            }
        });
        planned.whenComplete((p, e) -> compiled.run());
        return planned.thenCompose(p -> {
            if (p.lastId().isEmpty() || p.lastId().get().equals(Broadcaster.EARLIEST)
                    || !hub.resumePoint(Subscriptions.hubCursor(p.lastId().get())).equals(Broadcaster.EARLIEST)) {
                return CompletableFuture.completedFuture(p);
            }
            // an id this node does not know: maybe one another node issued a moment ago. Wait (a
            // little) until this node has every update stored before now; then it is known, or really unknown.
            return hub.log().caughtUp().toCompletableFuture().orTimeout(2, TimeUnit.SECONDS)
                    .handle((v, e) -> p);
        }).thenApply(p -> {
            try {
                return stream(req, describe(p.matchers(), p.legacyTopics(), p.claims()), p.wanted(), p.claims(), p.lastId(),
                        p.cursor());
            } catch (Rejection r) {
                throw new CompletionException(r);
            }
        });
    }

    /** Parses and compiles a subscription's selectors (400 for a bad one) and reads its cursor. */
    private Plan plan(HubRequest req, Map<String, List<String>> query, Optional<Grants> claims) throws Rejection {
        // 0.x topic= only in compatibility mode (SubscribeMatchers refuses it otherwise)
        List<String> topics = compat ? query.getOrDefault("topic", List.of()) : List.of();
        if (!topics.isEmpty()) {
            topics = topics(query);
        }
        List<Matcher> wantedMatchers = SubscribeMatchers.parse(query, matchers, compat ? topics.size() : -1);
        List<TopicSelector> wanted = new java.util.ArrayList<>(matchers.selectors(wantedMatchers));
        wanted.addAll(selectors.selectors(topics)); // 400 for one over the size limit
        // the Last-Event-ID header wins over last_event_id (L922-931); 0.x's lastEventID in compatibility mode
        String header = req.header("Last-Event-ID");
        boolean cursor = header != null || query.containsKey("last_event_id") || (compat && query.containsKey("lastEventID"));
        Optional<String> lastId = LastEventIds.fromHeader(header)
                .or(() -> Optional.ofNullable(query.get("last_event_id")).map(List::getFirst).filter(v -> !v.isEmpty()))
                .or(() -> compat ? Optional.ofNullable(query.get("lastEventID")).map(List::getFirst) : Optional.empty());
        return new Plan(wantedMatchers, topics, wanted, claims, lastId, cursor);
    }

    /**
     * A request's subscriptions, in the order of its selectors (1.0 matchers, then 0.x topics in
     * compatibility mode), each with the payload its token gives its own matcher (row 52).
     */
    private static List<Subscriptions.Subscription> describe(List<Matcher> matchers, List<String> legacyTopics, Optional<Grants> claims) {
        List<Subscriptions.Subscription> out = new java.util.ArrayList<>(matchers.size() + legacyTopics.size());
        for (Matcher m : matchers) {
            out.add(new Subscriptions.Match(m, claims.flatMap(c -> c.payloadFor(m.value()))));
        }
        for (String topic : legacyTopics) {
            out.add(new LegacySubscriptions.Topic(topic, claims.flatMap(c -> c.payloadFor(topic))));
        }
        return out;
    }

    /** Reserves a subscriber slot and plans the stream: its headers and what opening it registers. */
    private Stream stream(HubRequest req, List<Subscriptions.Subscription> described, List<TopicSelector> wanted, Optional<Grants> claims,
            Optional<String> lastId, boolean cursor) throws Rejection {
        if (lifetime.draining()) {
            // the drain started while this subscription was compiled (or waited for the log): answered as a
            // new one in a drain is, not with a stream the drain ends at once (issue #24's review)
            throw new Rejection(503, DRAINING, 1);
        }
        List<TopicSelector> authorized = claims.map(Grants::subscribeSelectors).orElse(List.of());
        // per client first (L188-191): one client cannot take every --max-connections slot
        Runnable clientSlot = clients.acquire(clients.client(req))
                .orElseThrow(() -> new Rejection(429, "too many streams from this client; close one or retry later", 10));
        Optional<Subscriptions.Subscriber> reserved = subscriptions.reserve(config.maxConnections(), described, claims.isEmpty());
        if (reserved.isEmpty()) {
            clientSlot.run();
            throw new Rejection(503, "too many subscribers; retry later");
        }
        Subscriptions.Subscriber subscriber = reserved.get();
        Map<String, String> headers = streamHeaders(req);
        // a subscription update's id names the hub event it followed (Subscriptions.ID_PREFIX)
        Optional<String> point = lastId.map(Subscriptions::hubCursor).map(hub::resumePoint);
        if (cursor) {
            // sent whenever the request carried a cursor (L953-964); 0.x clients read Last-Event-ID
            // a subscription update's id older than every update this node holds: as for an evicted hub
            // event id, "earliest" says the updates between it and the oldest held may be lost
            String answer = LastEventIds.toHeader(lastId.filter(subscriptions::olderThanHistory).isPresent() ? Broadcaster.EARLIEST
                    : point.orElseGet(() -> hub.lastEventId().orElse(Broadcaster.EARLIEST)));
            headers.put("Mercure-Last-Event-ID", answer);
            if (compat) {
                headers.put("Last-Event-ID", answer);
            }
        }
        // The head goes out before the subscription is registered; a client may publish the moment
        // it has the head. So a new subscriber starts from the newest event as of now: whatever is
        // published in between is replayed from history, never missed. (lastEventId() takes no lock
        // a publish holds.)
        String from = point.orElseGet(() -> hub.lastEventId().orElse(Broadcaster.EARLIEST));
        Opener opener = (conn, serial) -> {
            conn.onClose(reason -> clientSlot.run());
            conn.onClose(reason -> {
                // after the task that activates it: its "active: false" never precedes its "active: true"
                try {
                    serial.execute(() -> subscriptions.end(subscriber));
                } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
                    subscriptions.end(subscriber);
                }
            });
            claims.ifPresent(c -> closeAtExpiry(conn, c.expiresAt()));
            Broadcaster.SubscribeRequest s = hub.subscription(conn).topics(wanted).authorizedFor(authorized);
            s.resumeFrom(from);
            try {
                lifetime.opened(conn, s.start());
                subscriptions.watch(conn, described, wanted, authorized, lastId);
            } catch (IllegalStateException closed) {
                lifetime.notStarted(conn); // the hub is shutting down: the head went out, so the lone retry hint too
                return;
            }
            subscriptions.activate(subscriber);
        };
        return new Stream(headers, opener, () -> {
            subscriptions.release(subscriber);
            clientSlot.run();
        });
    }

    /** The headers of an event stream besides the event-stream ones: no caching, discovery, CORS. */
    private Map<String, String> streamHeaders(HubRequest req) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0");
        headers.put("Pragma", "no-cache");
        headers.put("Expire", "0");
        headers.put("Link", DISCOVERY);
        cors(req, headers);
        return headers;
    }

    /**
     * The token's {@code exp} ends the stream; close() writes, so not on the shared timer thread.
     * The timer is cancelled when the stream ends first: it would hold the connection until exp.
     */
    private void closeAtExpiry(SseConnection conn, Optional<Long> expiresAt) {
        expiresAt.ifPresent(exp -> {
            var expiry = scheduler.schedule(() -> Thread.ofVirtual().name("ssekit-hub-expired").start(conn::close),
                    Duration.ofSeconds(Math.max(0, exp - clock.instant().getEpochSecond())));
            conn.onClose(reason -> expiry.cancel(false));
        });
    }

    /**
     * {@code GET /status/events}: the {@link StatusFeed}, under the subscriptions API's rule (a
     * subscriber token, even when anonymous subscribers are allowed, whose {@code mercure.subscribe}
     * covers {@code /.well-known/mercure/subscriptions}: 401 without a valid one, 403 when it does
     * not cover it). A viewer holds one of the {@code maxConnections} slots (503 when none is free)
     * but is no subscription: it is not listed, and not counted in the figures.
     */
    private CompletionStage<Decision> statusStream(HubRequest req, Map<String, List<String>> query) {
        return access.subscriber(req, query).thenApply(claims -> {
            if (!claims.maySubscribe(Subscriptions.PATH)) {
                throw new CompletionException(Rejection.insufficientScope("the token's subscribe grants do not cover "
                        + Subscriptions.PATH));
            }
            Subscriptions.Subscriber slot = subscriptions.reserve(config.maxConnections(), List.of(), Optional.empty())
                    .orElseThrow(() -> new CompletionException(new Rejection(503, "too many subscribers; retry later")));
            Opener opener = (conn, serial) -> {
                conn.onClose(reason -> subscriptions.end(slot)); // never activated: only its slot is freed
                closeAtExpiry(conn, claims.expiresAt());
                status.open(conn);
            };
            return new Stream(streamHeaders(req), opener, () -> subscriptions.release(slot));
        });
    }

    /**
     * The subscriptions API (L1096-1158): {@code GET /.well-known/mercure/subscriptions}, {@code
     * …/{match_type}/{match}}, {@code …/{match_type}/{match}/{subscriber}} (and the v8 paths in
     * compatibility mode, {@link Subscriptions#target}), as {@code application/json}, for a subscriber
     * token with a {@code subscribe} grant on the requested path (the query is not part of it). In
     * order: a malformed path or an unknown match type is 400; then 401/403; then {@code
     * If-None-Match} with the current ETag is 304; then an unknown subscription is 404. Every answer
     * carries the cursor in {@code Link: <hub>; rel="mercure"; last-event-id="…"}.
     */
    private CompletionStage<Decision> subscriptionsApi(HubRequest req, Map<String, List<String>> query) throws Rejection {
        String raw = req.rawPath();
        Subscriptions.Target target = Subscriptions.target(raw.substring(Subscriptions.PATH.length()), compat)
                .orElseThrow(() -> new Rejection(404, "not found"));
        if (req.method().equals("OPTIONS")) {
            return reply(preflight(req, "GET")); // a page on another origin sends Authorization: it preflights
        }
        if (!req.method().equals("GET")) {
            throw new Rejection(405, "use GET for the subscriptions API");
        }
        return access.subscriber(req, query).thenCompose(claims -> {
            if (!claims.maySubscribe(raw)) {
                throw new CompletionException(Rejection.insufficientScope("the token's subscribe grants do not cover " + raw));
            }
            // both before the listing: what changes after is replayed with the cursor, and changes the ETag
            // (in a cluster: the cluster's change count, read with every node's subscriptions from Redis)
            // a cluster reads no node's subscriptions for a client that holds the current listing (a 304)
            return subscriptions.snapshot(target.path(), target.subscriber(), c -> knownChanges(req.header("If-None-Match"), c));
        }).thenApplyAsync(snapshot -> {
            // on a virtual thread of its own: the listing (in a cluster, every node's entries parsed from
            // the JSON Redis answered) and its body can be large, and the stage completes on a hub event
            // loop or on the Redis client's I/O thread, which carries the presence writes and the log
            long changes = snapshot.changes();
            String lastEventId = snapshot.cursor();
            // the cursor (L1123-1158) in a Link header, with an ETag that answers If-None-Match with 304: the
            // reference hub's (the cursor, escaped) and the count of subscription changes, which the hub's
            // event ids do not follow here (subscription events have a history of their own)
            String etag = "\"" + etagValue(LastEventIds.toHeader(lastEventId)) + "/" + changes + "\"";
            String link = "<" + PATH + ">; rel=\"mercure\"; last-event-id=\"" + LastEventIds.toHeader(lastEventId)
                    .replace("\\", "\\\\").replace("\"", "\\\"") + "\"; type=\"" + Subscriptions.EVENT_TYPE
                    + "\"; content-type=\"application/json\"";
            String ifNoneMatch = req.header("If-None-Match");
            if (ifNoneMatch != null && java.util.Arrays.stream(ifNoneMatch.split(",")).map(String::strip)
                    .anyMatch(t -> t.equals(etag) || t.equals("W/" + etag) || t.equals("*"))) {
                HubResponse notModified = new HubResponse(304, new LinkedHashMap<>(), new byte[0]);
                notModified.headers().put("ETag", etag);
                notModified.headers().put("Link", link);
                cors(req, notModified.headers());
                return new Reply(notModified);
            }
            List<Map<String, Object>> found = snapshot.rows().get();
            Map<String, Object> body;
            if (target.subscriber().isPresent()) {
                if (found.isEmpty()) {
                    throw new CompletionException(new Rejection(404, "no such subscription"));
                }
                body = found.getFirst(); // the event's document as is
            } else {
                body = new LinkedHashMap<>();
                body.put("id", raw);
                body.put("type", "subscriptions");
                body.put("subscriptions", found);
                if (compat) {
                    body.put("lastEventID", lastEventId); // 0.x clients read the cursor here; 1.0 ones in Link
                }
            }
            HubResponse r = text(req, 200, Subscriptions.write(body)).as("application/json");
            r.headers().put("Link", link);
            r.headers().put("ETag", etag);
            return new Reply(r);
        }, task -> Thread.ofVirtual().name("ssekit-hub-list").start(task));
    }

    /** The change counts of the ETags in {@code ifNoneMatch} made with this cursor ({@code "<cursor>/<changes>"}). */
    static java.util.Set<Long> knownChanges(String ifNoneMatch, String cursor) {
        if (ifNoneMatch == null) {
            return java.util.Set.of();
        }
        String prefix = "\"" + etagValue(LastEventIds.toHeader(cursor)) + "/";
        java.util.Set<Long> out = new java.util.HashSet<>();
        for (String t : ifNoneMatch.split(",")) {
            String tag = t.strip();
            tag = tag.startsWith("W/") ? tag.substring(2) : tag;
            if (tag.startsWith(prefix) && tag.endsWith("\"") && tag.length() > prefix.length() + 1 && out.size() < 16) {
                String digits = tag.substring(prefix.length(), tag.length() - 1);
                // only the canonical form we write (no sign, no leading zero): "/0012" or "/+12" is not our ETag for
                // version 12, and taking it for one would skip the listing the exact comparison then needs
                if (digits.chars().allMatch(ch -> ch >= '0' && ch <= '9') && (digits.length() == 1 || digits.charAt(0) != '0')) {
                    try {
                        out.add(Long.parseLong(digits));
                    } catch (NumberFormatException e) {
                        // beyond a long: not one of ours, it cannot match
                    }
                }
            }
        }
        return out;
    }

    /**
     * An id as the content of an entity-tag (RFC 9110 8.8.3), as the reference hub: bytes below
     * {@code !}, {@code "}, {@code %} and DEL percent-encoded (so the mapping stays injective), the rest as is.
     */
    static String etagValue(String headerBytes) {
        StringBuilder b = new StringBuilder(headerBytes.length());
        for (int i = 0; i < headerBytes.length(); i++) {
            char c = headerBytes.charAt(i);
            if (c < 0x21 || c == '"' || c == '%' || c == 0x7f) {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * The {@code topic} fields of a publish form or subscribe query: at least one, at most the
     * limit, each non-empty, without CR/LF/NUL and within {@link TopicSelectorStore#MAX_LENGTH}.
     */
    private List<String> topics(Map<String, List<String>> fields) throws Rejection {
        List<String> topics = fields.getOrDefault("topic", List.of());
        if (topics.isEmpty()) {
            throw new Rejection(400, "Missing \"topic\" parameter.");
        }
        if (topics.size() > config.maxTopics()) {
            throw new Rejection(400, "more than " + config.maxTopics() + " topics");
        }
        for (String topic : topics) {
            noControl("topic", topic);
            text("topic", topic);
            try {
                TopicSelectorStore.check(topic);
            } catch (IllegalArgumentException e) {
                throw new Rejection(400, e.getMessage());
            }
        }
        return topics;
    }

    /** Mercure 1.0's character rule (L65-74): no C0, DEL, C1 or format character. */
    private static void text(String field, String value) throws Rejection {
        String bad = MercureText.firstForbidden(value);
        if (bad != null) {
            throw new Rejection(400, field + " must not contain control or format characters, got " + bad);
        }
    }

    /** A QUERY request's form body unioned with its query: the query's values first (L114-132). */
    private Map<String, List<String>> union(Map<String, List<String>> query, byte[] body) {
        if (body.length == 0) {
            return query;
        }
        Map<String, List<String>> form = Forms.decode(body, maxFields());
        Map<String, List<String>> all = new LinkedHashMap<>();
        query.forEach((k, v) -> all.put(k, new java.util.ArrayList<>(v)));
        form.forEach((k, v) -> all.computeIfAbsent(k, x -> new java.util.ArrayList<>()).addAll(v));
        return all;
    }

    /**
     * The request's origin as the client named it: the hub's scheme (or the one a trusted proxy
     * forwarded, {@link ForwardedScheme}) and the Host header.
     */
    private String origin(HubRequest req) {
        String host = req.header("Host");
        return ForwardedScheme.of(req, config.tls().isPresent(), config.protocol().trustedProxies()) + "://"
                + (host == null ? "" : host.strip().toLowerCase(java.util.Locale.ROOT));
    }

    /** The audience a token must name: the configured resource identifier, else this request's hub URL (as the reference hub). */
    private String audience(HubRequest req) {
        return config.protocol().resourceId().orElseGet(() -> origin(req) + PATH);
    }

    /** The URL of the RFC 9728 metadata document, on the resource identifier's origin (else the request's). */
    private String metadataUrl(HubRequest req) {
        String base = config.protocol().resourceId().map(MercureProtocol::originOf).orElseGet(() -> origin(req));
        return base + METADATA_PATH;
    }

    private static String originOf(String url) {
        try {
            java.net.URI u = java.net.URI.create(url);
            if (u.getScheme() != null && u.getRawAuthority() != null) {
                return u.getScheme() + "://" + u.getRawAuthority();
            }
        } catch (IllegalArgumentException e) {
            // not a URL: fall through
        }
        return "";
    }

    /** The RFC 9728 protected resource metadata (L1346-1393), as JSON. */
    private String resourceMetadata(HubRequest req) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("resource", audience(req));
        doc.put("bearer_methods_supported", List.of("header"));
        doc.put("authorization_details_types_supported", List.of(AuthorizationDetails.TYPE));
        doc.put("mercure_cookie", AccessTokens.COOKIE);
        doc.put("mercure_matcher_types_supported", List.of(Matcher.EXACT, Matcher.URLPATTERN));
        if (subscriptions.enabled()) {
            doc.put("mercure_subscriptions", true);
        }
        return Subscriptions.write(doc);
    }

    /**
     * The request's {@code Idempotency-Key} header, if sent: printable ASCII (U+0020 to U+007E),
     * not empty, at most {@value #MAX_IDEMPOTENCY_KEY_BYTES} bytes; 400 naming the header otherwise.
     */
    private static Optional<String> idempotencyKey(HubRequest req) throws Rejection {
        String value = req.header("Idempotency-Key");
        if (value == null) {
            return Optional.empty();
        }
        if (value.isEmpty()) {
            throw new Rejection(400, "the Idempotency-Key header must not be empty");
        }
        if (value.length() > MAX_IDEMPOTENCY_KEY_BYTES) {
            throw new Rejection(400, "the Idempotency-Key header must be at most " + MAX_IDEMPOTENCY_KEY_BYTES + " bytes");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                throw new Rejection(400, String.format("the Idempotency-Key header must be printable ASCII, got U+%04X", (int) c));
            }
        }
        return Optional.of(value);
    }

    private static void noControl(String field, String value) throws Rejection {
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
            throw new Rejection(400, field + " must not contain CR, LF or NUL");
        }
    }

    private static Optional<String> first(Map<String, List<String>> form, String name) {
        List<String> v = form.get(name);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.getFirst());
    }

    /** CORS preflight: 204 with the allowed methods and headers for an allowed origin, 403 otherwise. */
    private HubResponse preflight(HubRequest req, String methods) throws Rejection {
        String origin = req.header("Origin");
        if (origin == null || !config.allowsOrigin(origin)) {
            throw new Rejection(403, "origin not allowed");
        }
        HubResponse r = text(req, 204, "");
        r.headers().put("Access-Control-Allow-Methods", methods);
        r.headers().put("Access-Control-Allow-Headers", "authorization, cache-control, last-event-id, content-type, idempotency-key");
        r.headers().put("Access-Control-Max-Age", "600");
        return r;
    }

    /**
     * Adds the CORS response headers when the request comes from an allowed origin: an origin listed by
     * name is reflected with credentials; {@code *} is answered as {@code *}, never with credentials.
     */
    private void cors(HubRequest req, Map<String, String> headers) {
        String origin = req.header("Origin");
        if (origin != null && config.allowsCredentialsFrom(origin)) {
            headers.put("Access-Control-Allow-Origin", origin);
            headers.put("Access-Control-Allow-Credentials", "true");
            headers.put("Access-Control-Expose-Headers", "Link, ETag, Mercure-Last-Event-ID");
            headers.put("Vary", "Origin");
        } else if (origin != null && config.allowsOrigin(origin)) {
            headers.put("Access-Control-Allow-Origin", "*");
            headers.put("Access-Control-Expose-Headers", "Link, ETag, Mercure-Last-Event-ID");
        }
    }

    /** A plain-text answer with the discovery link, CORS headers and, for 405, Allow (the subscriptions API: GET and OPTIONS). */
    private HubResponse text(HubRequest req, int status, String body) {
        HubResponse r = HubResponse.text(status, body);
        r.headers().put("Link", DISCOVERY);
        if (status == 405) {
            r.headers().put("Allow", req.rawPath().startsWith(Subscriptions.PATH) ? "GET, OPTIONS" : "GET, QUERY, POST, OPTIONS");
        }
        cors(req, r.headers());
        return r;
    }

    private static CompletionStage<Decision> reply(HubResponse r) {
        return CompletableFuture.completedFuture(new Reply(r));
    }

    /** The length of {@code s} in UTF-8, without encoding it. */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
