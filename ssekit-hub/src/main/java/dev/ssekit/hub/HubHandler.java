package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.TopicSelector;
import dev.ssekit.netty.NettySse;
import dev.ssekit.spi.LastEventIds;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Mercure endpoints (draft-dunglas-mercure-07, with the reference hub's status codes): {@code
 * POST /.well-known/mercure} publishes, {@code GET /.well-known/mercure} subscribes, {@code OPTIONS}
 * answers CORS preflights for allowed origins, {@code GET /.well-known/mercure/subscriptions…} lists
 * active subscriptions (when enabled); plus {@code GET /healthz}, {@code GET /metrics} and, in demo
 * mode, the demo page at {@code /}. Runs on the event loop: everything here is non-blocking (token
 * checks, form parsing, an O(subscribers) publish); streams are fed by the broadcaster off the
 * loop. Every response is written to the {@link AccessLog}; every rejection is logged once, with
 * its reason. One instance per connection or HTTP/2 stream.
 */
final class HubHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final String PATH = "/.well-known/mercure";
    private static final byte[] OPENING_COMMENT = {':', '\n'};
    private static final System.Logger LOG = System.getLogger(HubHandler.class.getName());

    private static final String DISCOVERY = "<" + PATH + ">; rel=\"mercure\"";

    private final HubConfig config;
    private final Broadcaster hub;
    private final Publisher publisher;
    private final Subscriptions subscriptions;
    private final Scheduler scheduler;
    private final Clock clock;
    private long started;
    /** The request's query parameters, strictly decoded. */
    private Map<String, List<String>> params = Map.of();

    HubHandler(HubConfig config, Broadcaster hub, Publisher publisher, Subscriptions subscriptions, Scheduler scheduler,
            Clock clock) {
        this.config = config;
        this.hub = hub;
        this.publisher = publisher;
        this.subscriptions = subscriptions;
        this.scheduler = scheduler;
        this.clock = clock;
    }

    /** A request the hub refuses: the status and a one-line reason for the client and the log. */
    private static final class Rejection extends Exception {
        private static final long serialVersionUID = 1L;
        final transient HttpResponseStatus status;

        Rejection(HttpResponseStatus status, String reason) {
            super(reason, null, false, false);
            this.status = status;
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        started = System.nanoTime();
        QueryStringDecoder query = new QueryStringDecoder(req.uri());
        try {
            params = Forms.decode(query.rawQuery().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), config.maxTopics() + 16);
            String path = query.path();
            if (query.rawPath().startsWith(Subscriptions.PATH) && subscriptions.enabled()) {
                subscriptionsApi(ctx, req, query);
            } else if (path.equals(PATH) && req.method().equals(HttpMethod.OPTIONS)) {
                preflight(ctx, req);
            } else if (path.equals(PATH) && req.method().equals(HttpMethod.POST)) {
                publish(ctx, req);
            } else if (path.equals(PATH) && req.method().equals(HttpMethod.GET)) {
                subscribe(ctx, req);
            } else if (path.equals(PATH)) {
                throw new Rejection(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET to subscribe or POST to publish");
            } else if (path.equals("/healthz") && req.method().equals(HttpMethod.GET)) {
                reply(ctx, req, HttpResponseStatus.OK, "ok\n");
            } else if (path.equals("/metrics") && req.method().equals(HttpMethod.GET)) {
                reply(ctx, req, HttpResponseStatus.OK, Metrics.prometheus(hub.stats()) + publisher.metrics());
            } else if (path.equals("/") && req.method().equals(HttpMethod.GET) && config.demo()) {
                FullHttpResponse page = response(req, HttpResponseStatus.OK, DemoPage.render(config.demoToken()));
                page.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
                send(ctx, req, page);
            } else {
                throw new Rejection(HttpResponseStatus.NOT_FOUND, "not found");
            }
        } catch (Rejection r) {
            reject(ctx, req, r);
        } catch (IllegalArgumentException e) {
            // Netty's decoders throw this for malformed percent-encoding and the like
            LOG.log(Level.INFO, "{0} {1} rejected: 400 {2}", req.method(), query.path(), e.getMessage());
            reply(ctx, req, HttpResponseStatus.BAD_REQUEST, "malformed request: " + e.getMessage() + "\n");
        } catch (RuntimeException e) {
            // a bug of ours: the client gets a status (never a stack trace), the log gets the trace
            LOG.log(Level.ERROR, "internal error answering " + req.method() + " " + query.path(), e);
            reply(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error\n");
        }
    }

    /**
     * A connection error (a reset, a broken pipe: the client went away) closes the channel, which
     * ends its stream; it is routine, so logged at DEBUG. Anything else is logged with its trace.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            LOG.log(Level.DEBUG, "connection error: {0}", cause.toString());
        } else {
            LOG.log(Level.WARNING, "closing a connection after an unexpected error", cause);
        }
        ctx.close();
    }

    /** Answers a refused request with its status and reason, and logs the reason once. */
    private void reject(ChannelHandlerContext ctx, FullHttpRequest req, Rejection r) {
        LOG.log(Level.INFO, "{0} {1} rejected: {2} {3}", req.method(), new QueryStringDecoder(req.uri()).path(),
                r.status.code(), r.getMessage());
        FullHttpResponse response = response(req, r.status, r.getMessage() + "\n");
        if (r.status == HttpResponseStatus.SERVICE_UNAVAILABLE) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, "5");
        }
        send(ctx, req, response);
    }

    private void publish(ChannelHandlerContext ctx, FullHttpRequest req) throws Rejection {
        Claims claims = verify(config.publisherKey(), token(req).orElseThrow(
                () -> new Rejection(HttpResponseStatus.UNAUTHORIZED, "a publisher token is required")));
        byte[] body = new byte[req.content().readableBytes()];
        req.content().getBytes(req.content().readerIndex(), body);
        Map<String, List<String>> form = Forms.decode(body, config.maxTopics() + 16);
        List<String> topics = topics(form);
        List<TopicMatcher> allowed = claims.publish().stream().map(TopicMatcher::of).toList();
        for (String topic : topics) {
            if (topic.isEmpty()) {
                throw new Rejection(HttpResponseStatus.BAD_REQUEST, "a topic must not be empty");
            }
            if (topic.startsWith(PATH + "/") || topic.contains(PATH + "/subscriptions")) {
                throw new Rejection(HttpResponseStatus.FORBIDDEN, "topics under " + PATH + " are reserved for the hub");
            }
            if (allowed.stream().noneMatch(m -> m.matches(topic))) {
                throw new Rejection(HttpResponseStatus.FORBIDDEN, "the token may not publish to this topic");
            }
        }
        SseMessage.Builder message = SseMessage.builder().data(first(form, "data").orElse(""));
        Optional<String> id = first(form, "id");
        if (id.isPresent()) {
            noControl("id", id.get());
            if (id.get().startsWith("#")) {
                throw new Rejection(HttpResponseStatus.BAD_REQUEST, "id must not start with #");
            }
            message.id(id.get());
        }
        Optional<String> type = first(form, "type");
        if (type.isPresent()) {
            noControl("type", type.get());
            message.event(type.get());
        }
        Optional<String> retry = first(form, "retry");
        if (retry.isPresent()) {
            String r = retry.get();
            if (r.isEmpty() || r.length() > 18 || !r.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new Rejection(HttpResponseStatus.BAD_REQUEST, "retry must be an unsigned integer");
            }
            message.retry(Duration.ofMillis(Long.parseLong(r)));
        }
        var stored = publisher.publish(message.build(), topics, form.containsKey("private")).toCompletableFuture();
        if (stored.isDone()) { // refused at once (Redis away), or already stored
            boolean failed = stored.isCompletedExceptionally();
            answerPublish(ctx, req, failed ? null : stored.join(), failed ? stored.exceptionNow() : null);
            return;
        }
        // stored off this event loop (a virtual thread, or Redis): read nothing more from this client
        // until it is answered, so responses, and its updates, keep the order of its requests
        ctx.channel().config().setAutoRead(false);
        stored.whenComplete((eventId, error) -> ctx.executor().execute(() -> {
            answerPublish(ctx, req, eventId, error);
            ctx.channel().config().setAutoRead(true);
        }));
    }

    private void answerPublish(ChannelHandlerContext ctx, FullHttpRequest req, String id, Throwable error) {
        if (error == null) {
            reply(ctx, req, HttpResponseStatus.OK, id);
            return;
        }
        // the history could not store it (disk full, read-only, Redis away): refused, never half-published
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        LOG.log(Level.ERROR, "publish refused: {0}", cause.toString());
        reject(ctx, req, new Rejection(HttpResponseStatus.SERVICE_UNAVAILABLE, "the hub cannot store updates right now"));
    }

    private void subscribe(ChannelHandlerContext ctx, FullHttpRequest req) throws Rejection {
        List<String> topics = topics(params);
        Optional<String> token = token(req);
        if (token.isEmpty() && !config.anonymous()) {
            throw new Rejection(HttpResponseStatus.UNAUTHORIZED, "a subscriber token is required");
        }
        Optional<Claims> claims = token.isPresent() ? Optional.of(verify(config.subscriberKey(), token.get())) : Optional.empty();
        List<TopicSelector> selectors = topics.stream().map(HubHandler::selector).toList();
        List<TopicSelector> authorized = claims.map(c -> c.subscribe().stream().map(HubHandler::selector).toList())
                .orElse(List.of());
        Subscriptions.Subscriber subscriber = subscriptions.reserve(config.maxConnections(), topics,
                claims.flatMap(Claims::payload)).orElseThrow(() -> new Rejection(HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "too many subscribers; retry later"));

        HttpHeaders extra = new DefaultHttpHeaders()
                .set(HttpHeaderNames.CACHE_CONTROL, "private, no-cache, no-store, must-revalidate, max-age=0")
                .set(HttpHeaderNames.PRAGMA, "no-cache")
                .set("Expire", "0")
                .set("Link", DISCOVERY);
        cors(req, extra);
        // the Last-Event-ID header wins over the lastEventID query parameter (draft 07, Reconnection)
        Optional<String> lastId = LastEventIds.fromHeader(req.headers().get("Last-Event-ID"))
                .or(() -> Optional.ofNullable(params.get("lastEventID")).map(List::getFirst));
        Runnable open = () -> open(ctx, req, lastId, extra, subscriber, claims, selectors, authorized);
        if (lastId.isEmpty() || lastId.get().equals(Broadcaster.EARLIEST) || !hub.resumePoint(lastId.get()).equals(Broadcaster.EARLIEST)) {
            open.run();
            return;
        }
        // an id this node does not know: maybe one another node issued a moment ago. Wait (a little)
        // until this node has every update stored before now; then it is known, or really unknown.
        var caughtUp = publisher.caughtUp().toCompletableFuture();
        if (caughtUp.isDone()) {
            open.run();
            return;
        }
        ctx.channel().config().setAutoRead(false);
        req.retain();
        caughtUp.orTimeout(2, java.util.concurrent.TimeUnit.SECONDS).whenComplete((v, e) -> ctx.executor().execute(() -> {
            try {
                open.run();
            } finally {
                req.release();
                ctx.channel().config().setAutoRead(true);
            }
        }));
    }

    /** Starts the stream: response head, opening comment, expiry timer, subscription, announcement. */
    private void open(ChannelHandlerContext ctx, FullHttpRequest req, Optional<String> lastId, HttpHeaders extra,
            Subscriptions.Subscriber subscriber, Optional<Claims> claims, List<TopicSelector> selectors,
            List<TopicSelector> authorized) {
        Optional<String> point = lastId.map(hub::resumePoint);
        point.ifPresent(p -> extra.set("Last-Event-ID", LastEventIds.toHeader(p)));
        // The head goes out (flushed) before the subscription is registered just below; a client may
        // publish the moment it has the head. So a new subscriber starts from the newest event as of
        // now: whatever is published in between is replayed from history, never missed.
        String from = point.orElseGet(() -> hub.lastEventId().orElse(Broadcaster.EARLIEST));

        SseConnection conn = NettySse.start(ctx.channel(), req, extra);
        long start = started;
        HttpRequest head = new DefaultHttpRequest(req.protocolVersion(), req.method(), req.uri());
        EventLoop loop = ctx.channel().eventLoop();
        conn.onClose(reason -> {
            AccessLog.stream(ctx.channel(), head, start, reason.name().toLowerCase(java.util.Locale.ROOT));
            // after this task (which activates it): its "active: false" never precedes its "active: true"
            try {
                loop.execute(() -> subscriptions.end(subscriber));
            } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
                subscriptions.end(subscriber);
            }
        });
        // the reference hub's first bytes: written before any event, on this event loop, in order
        ctx.channel().writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(OPENING_COMMENT)));
        // the token's exp ends the subscription; close() writes, so not on the shared timer thread.
        // The timer is cancelled when the stream ends first: it would hold the connection until exp.
        claims.flatMap(Claims::expiresAt).ifPresent(exp -> {
            var expiry = scheduler.schedule(() -> Thread.ofVirtual().name("ssekit-hub-expired").start(conn::close),
                    Duration.ofSeconds(Math.max(0, exp - clock.instant().getEpochSecond())));
            conn.onClose(reason -> expiry.cancel(false));
        });
        // registered before this handler returns (nothing here blocks), from the event captured
        // above: once a client has the response head, what is published reaches it
        Broadcaster.SubscribeRequest s = hub.subscription(conn).topics(selectors).authorizedFor(authorized);
        s.resumeFrom(from);
        try {
            s.start();
        } catch (IllegalStateException closed) {
            conn.close(); // the hub is shutting down
            return;
        }
        subscriptions.activate(subscriber);
    }

    /**
     * {@code GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]}: the active
     * subscriptions as JSON-LD, for a subscriber token whose {@code mercure.subscribe} matches the
     * requested path.
     */
    private void subscriptionsApi(ChannelHandlerContext ctx, FullHttpRequest req, QueryStringDecoder query) throws Rejection {
        String raw = query.rawPath();
        String rest = raw.substring(Subscriptions.PATH.length());
        if (!rest.isEmpty() && !rest.startsWith("/")) {
            throw new Rejection(HttpResponseStatus.NOT_FOUND, "not found");
        }
        String[] segments = rest.isEmpty() ? new String[0] : rest.substring(1).split("/", -1);
        if (segments.length > 2 || java.util.Arrays.stream(segments).anyMatch(String::isEmpty)) {
            throw new Rejection(HttpResponseStatus.NOT_FOUND, "not found");
        }
        if (!req.method().equals(HttpMethod.GET)) {
            throw new Rejection(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET for the subscriptions API");
        }
        Claims claims = verify(config.subscriberKey(), token(req).orElseThrow(
                () -> new Rejection(HttpResponseStatus.UNAUTHORIZED, "a subscriber token is required")));
        if (claims.subscribe().stream().map(TopicMatcher::of).noneMatch(m -> m.matches(raw))) {
            throw new Rejection(HttpResponseStatus.FORBIDDEN, "the token's mercure.subscribe does not cover " + raw);
        }
        Optional<String> topic = segments.length > 0 ? Optional.of(Forms.pathSegment(segments[0])) : Optional.empty();
        Optional<String> subscriber = segments.length > 1 ? Optional.of(Forms.pathSegment(segments[1])) : Optional.empty();
        String lastEventId = hub.lastEventId().orElse(Broadcaster.EARLIEST);
        Map<String, Object> body;
        if (subscriber.isPresent()) {
            body = subscriptions.list(Optional.empty(), subscriber, true).stream()
                    .filter(m -> m.get("topic").equals(topic.get())).findFirst()
                    .orElseThrow(() -> new Rejection(HttpResponseStatus.NOT_FOUND, "no such subscription"));
        } else {
            body = new java.util.LinkedHashMap<>();
            body.put("@context", Subscriptions.CONTEXT);
            body.put("id", topic.map(t -> Subscriptions.PATH + "/" + Subscriptions.encode(t)).orElse(Subscriptions.PATH));
            body.put("type", "Subscriptions");
            body.put("subscriptions", subscriptions.list(topic, Optional.empty(), false));
        }
        body.put("lastEventID", lastEventId);
        FullHttpResponse r = response(req, HttpResponseStatus.OK, Subscriptions.write(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/ld+json");
        send(ctx, req, r);
    }

    /** The {@code topic} fields of a publish form or subscribe query: at least one, at most the limit, no CR/LF/NUL. */
    private List<String> topics(Map<String, List<String>> fields) throws Rejection {
        List<String> topics = fields.getOrDefault("topic", List.of());
        if (topics.isEmpty()) {
            throw new Rejection(HttpResponseStatus.BAD_REQUEST, "Missing \"topic\" parameter.");
        }
        if (topics.size() > config.maxTopics()) {
            throw new Rejection(HttpResponseStatus.BAD_REQUEST, "more than " + config.maxTopics() + " topics");
        }
        for (String topic : topics) {
            noControl("topic", topic);
        }
        return topics;
    }

    private static TopicSelector selector(String topic) {
        TopicMatcher m = TopicMatcher.of(topic);
        return TopicSelector.of(topic, m::matches);
    }

    private static void noControl(String field, String value) throws Rejection {
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
            throw new Rejection(HttpResponseStatus.BAD_REQUEST, field + " must not contain CR, LF or NUL");
        }
    }

    private static Optional<String> first(Map<String, List<String>> form, String name) {
        List<String> v = form.get(name);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.getFirst());
    }

    /** The token: Authorization header, else the authorization query parameter, else the cookie. */
    private Optional<String> token(FullHttpRequest req) throws Rejection {
        String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header != null) {
            if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw new Rejection(HttpResponseStatus.UNAUTHORIZED, "the Authorization header must be a Bearer token");
            }
            return Optional.of(header.substring(7).trim());
        }
        List<String> param = params.get("authorization");
        if (param != null && !param.isEmpty()) {
            return Optional.of(param.getFirst());
        }
        String cookies = req.headers().get(HttpHeaderNames.COOKIE);
        if (cookies != null) {
            for (Cookie c : ServerCookieDecoder.STRICT.decode(cookies)) {
                if (c.name().equals("mercureAuthorization")) {
                    checkCookieOrigin(req);
                    return Optional.of(c.value());
                }
            }
        }
        return Optional.empty();
    }

    /** Cookie authorization needs CSRF protection: an Origin or Referer from an allowed origin. */
    private void checkCookieOrigin(FullHttpRequest req) throws Rejection {
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            String referer = req.headers().get(HttpHeaderNames.REFERER);
            if (referer != null) {
                try {
                    java.net.URI u = java.net.URI.create(referer);
                    origin = u.getScheme() + "://" + u.getRawAuthority();
                } catch (IllegalArgumentException e) {
                    origin = null;
                }
            }
        }
        if (origin == null) {
            throw new Rejection(HttpResponseStatus.UNAUTHORIZED, "cookie authorization needs an Origin or Referer header");
        }
        if (!config.allowsOrigin(origin)) {
            throw new Rejection(HttpResponseStatus.FORBIDDEN, "origin not allowed for cookie authorization");
        }
    }

    private Claims verify(JwtVerifier key, String token) throws Rejection {
        // a static key (or JWKS keys at hand) completes at once; a stage still waiting for a JWKS fetch
        // is refused for now (TODO: wait for it asynchronously instead)
        java.util.concurrent.CompletableFuture<Claims> claims = key.verify(token, clock.instant()).toCompletableFuture();
        if (!claims.isDone()) {
            throw new Rejection(HttpResponseStatus.UNAUTHORIZED, "signing keys not ready");
        }
        try {
            return claims.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw new Rejection(HttpResponseStatus.UNAUTHORIZED,
                    e.getCause() instanceof JwtException j ? j.getMessage() : "token not verified");
        }
    }

    /** CORS preflight: 204 with the allowed methods and headers for an allowed origin, 403 otherwise. */
    private void preflight(ChannelHandlerContext ctx, FullHttpRequest req) throws Rejection {
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null || !config.allowsOrigin(origin)) {
            throw new Rejection(HttpResponseStatus.FORBIDDEN, "origin not allowed");
        }
        FullHttpResponse r = response(req, HttpResponseStatus.NO_CONTENT, "");
        r.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST")
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "authorization, cache-control, last-event-id, content-type")
                .set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
        send(ctx, req, r);
    }

    /** Adds the CORS response headers when the request comes from an allowed origin. */
    private void cors(FullHttpRequest req, HttpHeaders headers) {
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && config.allowsOrigin(origin)) {
            headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                    .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
                    .set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
        }
    }

    private void reply(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String body) {
        send(ctx, req, response(req, status, body));
    }

    private FullHttpResponse response(FullHttpRequest req, HttpResponseStatus status, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(body, UTF_8));
        if (status != HttpResponseStatus.NO_CONTENT) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        }
        r.headers().set("Link", DISCOVERY);
        if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
            r.headers().set(HttpHeaderNames.ALLOW, "GET, POST, OPTIONS");
        }
        cors(req, r.headers());
        return r;
    }

    private void send(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse r) {
        AccessLog.response(ctx.channel(), req, r.status().code(), r.content().readableBytes(), started);
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpUtil.setKeepAlive(r, keepAlive);
        var f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(io.netty.channel.ChannelFutureListener.CLOSE);
        }
    }
}
