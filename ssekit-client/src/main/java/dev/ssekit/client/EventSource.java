package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import dev.ssekit.time.Scheduler;
import dev.ssekit.time.Ticker;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A client for one event stream that behaves like a browser's {@code EventSource}, built on
 * {@code java.net.http} and the codec's {@link SseParser}.
 *
 * <p>It sends {@code Accept: text/event-stream} and {@code Cache-Control: no-cache}, follows
 * redirects, and reconnects when the stream ends or the network fails, sending {@code
 * Last-Event-ID} when the last event id is not empty. The server's {@code retry:} sets the base
 * delay; {@link RetryPolicy} adds exponential backoff with full jitter. A status other than 200, or
 * a content type other than {@code text/event-stream}, fails it for good, except 500, 502, 503,
 * 504 and 429, which are retried (honouring {@code Retry-After}) unless {@link
 * Builder#retryServerErrors(boolean)} is off; 204 closes it without an error.
 *
 * <pre>{@code
 * try (EventSource source = EventSource.builder(URI.create("http://127.0.0.1:8080/sse")).build()) {
 *     source.events().limit(10).forEach(e -> System.out.println(e.type() + ": " + e.data()));
 * }
 * }</pre>
 *
 * <p>No thread is held per connection: bytes are parsed as the HTTP client delivers them, and a
 * shared scheduler times reconnects and stall detection. Listener callbacks run on the source's
 * own callback executor (by default virtual threads), never on a thread of the HTTP client or of
 * {@code ForkJoinPool.commonPool}. Thread-safe: {@link #close()} may be called from any thread,
 * also from a callback, and returns at once without waiting for a running callback.
 */
public final class EventSource implements AutoCloseable {

    /** The {@code readyState} of a browser's {@code EventSource}. */
    public enum State {
        /** Connecting, or waiting to reconnect. */
        CONNECTING,
        /** A stream is open. */
        OPEN,
        /** Closed for good. */
        CLOSED
    }

    /** The default {@link Builder#maxEventSize(int)}: 8 MiB. */
    static final int DEFAULT_MAX_EVENT_SIZE = 8 * 1024 * 1024;

    private static final System.Logger LOG = System.getLogger(EventSource.class.getName());
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME;
    /** Beyond any Retry-After worth waiting for; schedulers saturate longer delays anyway. */
    private static final Duration MAX_DELAY = Duration.ofNanos(Long.MAX_VALUE);

    final URI uri;
    private final Map<String, String> headers;
    private final Supplier<Map<String, String>> headerSupplier;
    private final String method;
    private final HttpRequest.BodyPublisher body;
    final RetryPolicy retryPolicy;
    final Duration readTimeout;
    private final int maxAttempts;
    final boolean retryServerErrors;
    final HttpClient client;
    final Scheduler scheduler;
    final Ticker ticker;
    private final RandomGenerator random;
    final SerialCallbacks callbacks;
    final SseParser parser;
    final int maxEventSize;
    /** Guards the parser: an attempt's last delivery may overlap the reset that ends it. */
    final ReentrantLock parserLock = new ReentrantLock();

    private final AtomicBoolean started = new AtomicBoolean();
    final AtomicBoolean closing = new AtomicBoolean();
    /** Set by {@link #close()}: events not yet delivered are dropped (after a failure they are delivered first). */
    volatile boolean closedByUser;
    final AtomicReference<State> state = new AtomicReference<>(State.CONNECTING);
    volatile EventSourceListener listener;
    private volatile Duration serverRetry;
    private volatile HttpAttempt current;
    private volatile Future<?> pendingReconnect;
    private volatile boolean warnedUnsendableId;
    /** Set by the parser when it dispatched an event; taken by the attempt that fed it. */
    boolean eventParsed;
    /** Guards the listener hand-over between {@link #start} and {@link #terminate}; no callback runs under it. */
    private final ReentrantLock lifecycle = new ReentrantLock();
    /** Why the source ended, once it did; read by a {@link #start} that comes after {@link #close()}. */
    private volatile Optional<StreamException> endedWith;
    /** The HTTP version of the last response with a head, or null before the first. */
    volatile HttpClient.Version lastVersion;
    /** Consecutive failures; only touched by the attempt that is finishing (one at a time). */
    private int failures;

    private EventSource(Builder b) {
        this.uri = b.uri;
        this.headers = Map.copyOf(b.headers);
        this.headerSupplier = b.headerSupplier;
        this.method = b.method;
        this.body = b.body;
        this.retryPolicy = b.retryPolicy;
        this.readTimeout = b.readTimeout;
        this.maxAttempts = b.maxAttempts;
        this.retryServerErrors = b.retryServerErrors;
        this.client = b.httpClient != null ? b.httpClient : SharedClient.INSTANCE;
        this.scheduler = b.scheduler;
        this.ticker = b.ticker;
        this.random = b.random;
        this.callbacks = new SerialCallbacks(b.callbackExecutor, () -> closedByUser);
        this.maxEventSize = b.maxEventSize;
        this.parser = SseParser.create(new ParserHandler(), b.lastEventId, b.maxEventSize);
    }

    /**
     * A builder for a source reading {@code uri}.
     *
     * @param uri an {@code http} or {@code https} URI
     * @return a new builder; not thread-safe
     * @throws NullPointerException if {@code uri} is null
     */
    public static Builder builder(URI uri) {
        return new Builder(Objects.requireNonNull(uri, "uri"));
    }

    /**
     * Connects and delivers everything to {@code listener}. Returns at once. When the source was
     * closed already, {@code listener} hears {@link EventSourceListener#onClosed} only.
     *
     * @param listener receives the stream's events; see {@link EventSourceListener} for the order
     * @throws IllegalStateException if this source was started already (each source runs once)
     * @throws NullPointerException if {@code listener} is null
     */
    public void start(EventSourceListener listener) {
        Objects.requireNonNull(listener, "listener");
        Optional<StreamException> ended;
        lifecycle.lock();
        try {
            if (!started.compareAndSet(false, true)) {
                throw new IllegalStateException("this EventSource was started already; build a new one");
            }
            this.listener = listener;
            ended = endedWith;
        } finally {
            lifecycle.unlock();
        }
        if (ended != null) {
            // closed before it was started: the listener still hears onClosed, once
            callbacks.finish(() -> listener.onClosed(ended));
            return;
        }
        Thread.ofVirtual().name("ssekit-eventsource-connect").start(this::connect);
    }

    /**
     * Connects and returns the events as a blocking, sequential stream, for code that runs on
     * virtual threads. Reconnections are invisible to it: events simply continue. The stream ends
     * after {@link #close()} (from another thread, or by closing the stream) or a 204 answer; it
     * throws {@link UncheckedIOException} wrapping a {@link StreamException} when the source fails
     * for good. At most 256 events are buffered; beyond that the connection is not read until the
     * consumer catches up. Time the consumer spends not reading does not count as server silence
     * for the read timeout. After {@link #close()} the stream is empty.
     *
     * @return the events; closing the stream closes this source
     * @throws IllegalStateException if this source was started already
     */
    public Stream<SseEvent> events() {
        BlockingEvents events = new BlockingEvents(() -> closedByUser, this::close);
        start(events);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(events,
                Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(this::close);
    }

    /**
     * Connects when subscribed to and publishes the events by demand, for Reactor, RxJava, Mutiny,
     * Kotlin coroutines or Pekko (all adapt a JDK {@code Flow.Publisher}). Reconnections are
     * invisible to the subscriber: events simply continue. One subscriber; a second gets {@code
     * onError(IllegalStateException)}. Demand drives the reading: while the subscriber has no
     * demand, the source's callback thread waits and the socket is not read (a slow subscriber
     * stalls the server, never an unbounded queue), and the wait does not count as silence for the
     * read timeout. {@code cancel()} closes the source. A fatal failure (or the last of {@code
     * maxAttempts} failed attempts) is {@code onError} with the {@link StreamException}; a 204
     * answer or {@link #close()} is {@code onComplete}. Signals come from the source's callback
     * executor. Follows Reactive Streams 1.0 (checked with its TCK).
     *
     * @return the publisher; it starts this source when subscribed to
     * @throws IllegalStateException if this source was started already
     */
    public java.util.concurrent.Flow.Publisher<SseEvent> publisher() {
        if (started.get()) {
            throw new IllegalStateException("this EventSource was started already; build a new one");
        }
        return new SourcePublisher(this);
    }

    /**
     * The current state.
     *
     * @return CONNECTING, OPEN or CLOSED
     */
    public State state() {
        return state.get();
    }

    /**
     * The last event id, sent as {@code Last-Event-ID} on the next reconnection when not empty.
     *
     * @return the id; empty when none
     */
    public String lastEventId() {
        parserLock.lock();
        try {
            return parser.lastEventId();
        } finally {
            parserLock.unlock();
        }
    }

    /**
     * Closes the source: the connection (or the pending connection attempt, or the reconnect
     * timer) is cancelled at once, and {@link EventSourceListener#onClosed} runs with no failure
     * unless the source had already ended. Returns at once: it never waits for a running callback
     * (it may be called from one) and never runs {@code onClosed} itself; {@code onClosed} runs once,
     * on the callback executor, after the callback that is running returns, and no event is
     * delivered after it. Closing a source that was not started makes a later {@link #start} or
     * {@link #events()} end at once. Idempotent; thread-safe.
     */
    @Override
    public void close() {
        closedByUser = true;
        terminate(Optional.empty());
    }

    private void connect() {
        try {
            connectOrThrow();
        } catch (RuntimeException | Error e) {
            internalFailure(e, new StreamIoException(e));
        }
    }

    private void connectOrThrow() {
        if (closing.get()) {
            return;
        }
        setState(State.CONNECTING);
        HttpAttempt a = new HttpAttempt(this);
        current = a;
        if (closing.get()) {
            a.cancel();
            return;
        }
        a.start();
    }

    void failed(StreamException error, HttpAttempt attempt) {
        if (closing.get()) {
            return;
        }
        if (attempt.delivered || (attempt.openedAt != Long.MIN_VALUE
                && ticker.read() - attempt.openedAt >= retryPolicy.resetAfter().toNanos())) {
            // a stream that delivered an event (or stayed open for resetAfter) was healthy: the
            // attempt count and the backoff start again
            failures = 0;
        }
        callbacks.run(() -> listener.onError(error));
        if (!error.isRetryable()) {
            terminate(Optional.of(error));
            return;
        }
        failures++;
        if (maxAttempts > 0 && failures >= maxAttempts) {
            LOG.log(Level.DEBUG, "EventSource {0}: giving up after {1} failed attempts", uri, failures);
            terminate(Optional.of(error));
            return;
        }
        Duration delay = retryPolicy.delay(failures, serverRetry, random);
        if (error instanceof StreamHttpException http && http.retryAfter().isPresent()) {
            // the server's wish, plus jitter so clients do not return together; saturating, as a
            // Retry-After of Long.MAX_VALUE seconds plus anything overflows a Duration
            Duration wish = http.retryAfter().get();
            delay = wish.compareTo(MAX_DELAY.minus(delay)) >= 0 ? MAX_DELAY : wish.plus(delay);
        }
        setState(State.CONNECTING);
        pendingReconnect = scheduler.schedule(() -> Thread.ofVirtual().name("ssekit-eventsource-connect").start(this::connect),
                delay);
        if (closing.get()) {
            pendingReconnect.cancel(false);
        }
    }

    /**
     * The last resort of every callback path (a future's completion, a scheduled task, the connect
     * thread): an exception there would otherwise vanish and leave the source neither reconnecting
     * nor closed. It is logged, and the source closes with {@code failure}.
     */
    void internalFailure(Throwable t, StreamException failure) {
        try {
            LOG.log(Level.ERROR, "EventSource " + uri + ": internal failure; closing the source", t);
        } finally {
            terminate(Optional.of(failure));
        }
    }

    /** Whether the source closed with a failure (not by {@link #close()} nor a 204). */
    boolean failedForGood() {
        Optional<StreamException> e = endedWith;
        return e != null && e.isPresent();
    }

    /** For tests: whether a stream is open and waiting for bytes (its listener is not holding it). */
    boolean reading() {
        HttpAttempt a = current;
        return a != null && a.reading();
    }

    /** Sets the state unless it is CLOSED, which is for good. */
    void setState(State s) {
        state.getAndUpdate(current -> current == State.CLOSED ? State.CLOSED : s);
    }

    void terminate(Optional<StreamException> failure) {
        EventSourceListener l;
        lifecycle.lock();
        try {
            if (!closing.compareAndSet(false, true)) {
                return;
            }
            state.set(State.CLOSED);
            endedWith = failure;
            l = listener;
        } finally {
            lifecycle.unlock();
        }
        Future<?> timer = pendingReconnect;
        if (timer != null) {
            timer.cancel(false);
        }
        HttpAttempt a = current;
        if (a != null) {
            a.cancel();
        }
        if (l != null) {
            callbacks.finish(() -> l.onClosed(failure));
        }
    }

    HttpRequest request() {
        HttpRequest.Builder r = HttpRequest.newBuilder(uri).method(method, body)
                .header("Accept", "text/event-stream")
                .header("Cache-Control", "no-cache");
        if (!readTimeout.isZero()) {
            r.timeout(readTimeout);
        }
        headers.forEach(r::setHeader);
        if (headerSupplier != null) {
            Map<String, String> extra = headerSupplier.get();
            if (extra != null) {
                extra.forEach(r::setHeader);
            }
        }
        String id = lastEventId();
        if (!id.isEmpty()) {
            boolean utf8 = carriesUtf8Heads();
            String unsendable = unsendableIdReason(id, utf8);
            if (unsendable == null) {
                // WHATWG 9.2.4 sends the id UTF-8 encoded. java.net.http's HPACK encoder writes each
                // character of a header value as one byte (ISO-8859-1), so the UTF-8 bytes as
                // characters arrive as the UTF-8 bytes; ASCII (TAB included) is the same either way
                r.setHeader("Last-Event-ID", utf8 ? new String(id.getBytes(UTF_8), ISO_8859_1) : id);
            } else if (!warnedUnsendableId) {
                // rather than send a wrong id, send none
                warnedUnsendableId = true;
                LOG.log(Level.WARNING, "EventSource {0}: last event id \"{1}\" cannot be sent as Last-Event-ID: {2}; "
                        + "reconnecting without it", uri, escape(id), unsendable);
            }
        }
        return r.build();
    }

    /**
     * Whether the next request goes out over HTTP/2, whose header encoding keeps bytes above 0x7F:
     * the last response came over HTTP/2, from this source's own URI (not after a redirect), and
     * the scheme is {@code https}, where ALPN picks HTTP/2 again on a new connection to the same
     * server. Over cleartext a new connection starts with an HTTP/1.1 upgrade request, whose head is
     * US-ASCII. Not covered: a server that offers HTTP/2 on one connection and only HTTP/1.1 on the
     * next (mixed backends behind one name), and a redirected stream that then fails with a network
     * error before its response completes.
     */
    private boolean carriesUtf8Heads() {
        return lastVersion == HttpClient.Version.HTTP_2 && "https".equalsIgnoreCase(uri.getScheme());
    }

    /**
     * Why {@code id} cannot be sent as a {@code Last-Event-ID} header value, or null when it can.
     * {@code java.net.http} accepts a header value of TAB, space, visible ASCII and characters
     * 0x80-0xFF; it refuses the other control characters and DEL. It writes an HTTP/1.1 request head
     * as US-ASCII (a character above 0x7E becomes {@code ?}) and an HTTP/2 one byte per character,
     * so a non-ASCII id goes out intact (UTF-8 encoded) only over HTTP/2.
     *
     * @param id the id, not empty
     * @param utf8Heads whether the request goes out over HTTP/2 (the id is then sent UTF-8 encoded)
     * @return the reason, for a log message; null when it can be sent
     */
    static String unsendableIdReason(String id, boolean utf8Heads) {
        boolean nonAscii = false;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return String.format(Locale.ROOT, "it holds the control character U+%04X, which no HTTP header value may carry",
                        (int) c);
            }
            nonAscii |= c > 0x7E;
        }
        if (nonAscii && !utf8Heads) {
            return "it holds non-ASCII characters, which java.net.http would turn into '?' in an HTTP/1.1 request head"
                    + " (it sends them intact, UTF-8 encoded, only over HTTP/2 with TLS)";
        }
        return null;
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c == '\n' || c == '\r' || c == 0) {
                b.append(c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\0");
            } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
                b.append(String.format(Locale.ROOT, "\\u%04X", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    static Duration retryAfter(HttpHeaders h) {
        Optional<String> v = h.firstValue("Retry-After").map(String::trim);
        if (v.isEmpty() || v.get().isEmpty()) {
            return null;
        }
        String s = v.get();
        if (s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            try {
                return Duration.ofSeconds(Long.parseLong(s));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        try {
            Duration d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(s, HTTP_DATE));
            return d.isNegative() ? Duration.ZERO : d;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static boolean isEventStream(String contentType) {
        int semi = contentType.indexOf(';');
        String essence = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return essence.toLowerCase(Locale.ROOT).equals("text/event-stream");
    }

    /** Collects what the parser reports; the callbacks run when the batch is flushed. */
    private final class ParserHandler implements SseParser.Handler {
        @Override
        public void onEvent(SseEvent event) {
            eventParsed = true;
            callbacks.add(() -> listener.onEvent(event));
        }

        @Override
        public void onComment(String comment) {
            callbacks.add(() -> listener.onComment(comment));
        }

        @Override
        public void onRetry(Duration delay) {
            serverRetry = delay;
        }
    }

    /**
     * Which one-shot kind of the JDK's body publishers {@code body} is, or null when it is none of
     * them. The JDK's classes are not public: they are told apart by name, and a JDK that renamed
     * them would let them through (the first reconnection would then send an empty or failing body).
     */
    static String oneShotKind(HttpRequest.BodyPublisher body) {
        String name = body.getClass().getName();
        if (!name.startsWith("jdk.internal.net.http.RequestPublishers$")) {
            return null;
        }
        return switch (name.substring(name.indexOf('$') + 1)) {
            case "InputStreamPublisher" -> "BodyPublishers.ofInputStream";
            case "IterablePublisher" -> "BodyPublishers.ofByteArrays";
            case "PublisherAdapter" -> "BodyPublishers.fromPublisher";
            case "AggregatePublisher" -> "BodyPublishers.concat";
            default -> null;
        };
    }

    /** The HTTP client shared by every source that was not given one. */
    private static final class SharedClient {
        static final HttpClient INSTANCE = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
    }

    /**
     * Builds an {@link EventSource}. Setters reject null; {@link #build()} validates and names the
     * setting and value it rejects. Not thread-safe.
     */
    public static final class Builder {
        final URI uri;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private Supplier<Map<String, String>> headerSupplier;
        private String method = "GET";
        private HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
        private String lastEventId = "";
        private RetryPolicy retryPolicy = RetryPolicy.create();
        private Duration readTimeout = Duration.ofMinutes(5);
        private int maxAttempts;
        private boolean retryServerErrors = true;
        private HttpClient httpClient;
        private Executor callbackExecutor;
        private Scheduler scheduler = Scheduler.system();
        private Ticker ticker = Ticker.system();
        private RandomGenerator random = RandomGenerator.getDefault();
        private int maxEventSize = DEFAULT_MAX_EVENT_SIZE;

        private Builder(URI uri) {
            this.uri = uri;
        }

        /**
         * A header sent with every connection attempt.
         *
         * @param name the header name
         * @param value its value
         * @return this builder
         */
        public Builder header(String name, String value) {
            headers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Headers computed again for each connection attempt, for example a fresh bearer token.
         * They override {@link #header} values of the same name. The supplier runs on a virtual
         * thread of the source's and may block; if it throws, the attempt fails with a retryable {@link
         * StreamIoException}.
         *
         * @param supplier returns the headers for the next attempt
         * @return this builder
         */
        public Builder headers(Supplier<Map<String, String>> supplier) {
            this.headerSupplier = Objects.requireNonNull(supplier, "supplier");
            return this;
        }

        /**
         * The request method and body, for a stream answered to a POST (a streaming API), a Mercure
         * {@code QUERY} subscription, or any other method. Every attempt, the first and each
         * reconnection, sends this method and this body, with {@code Last-Event-ID} as for GET; the
         * {@code Content-Type} of the body is set with {@link #header}. Default {@code GET} with no
         * body.
         *
         * <p>The body is sent again on every reconnection, so it must be replayable: each
         * subscription to it must publish the same bytes. {@code BodyPublishers.ofString}, {@code
         * ofByteArray}, {@code ofFile} and {@code noBody} are; {@link #build()} refuses the JDK's
         * one-shot kinds, {@code BodyPublishers.ofInputStream}, {@code ofByteArrays} (an {@code
         * Iterable} may be iterable once only), {@code fromPublisher} and {@code concat} of several
         * (which may hold any of these). A body publisher of another class is taken as replayable:
         * that is its author's promise.
         *
         * @param method the method, a token such as {@code POST} or {@code QUERY}
         * @param body the body; {@code BodyPublishers.noBody()} for none
         * @return this builder
         */
        public Builder method(String method, HttpRequest.BodyPublisher body) {
            this.method = Objects.requireNonNull(method, "method");
            this.body = Objects.requireNonNull(body, "body");
            return this;
        }

        /**
         * The last event id to resume from: sent as {@code Last-Event-ID} on the first request.
         * It must be printable ASCII or TAB: {@code java.net.http} writes HTTP/1.1 request heads as
         * US-ASCII, and which version a first request gets is not known in advance. A non-ASCII id
         * a server sends is sent back UTF-8 encoded, as browsers do, when the stream came over
         * HTTP/2 with TLS; otherwise the client reconnects without {@code Last-Event-ID} (a warning
         * is logged once) rather than send a wrong id.
         *
         * @param lastEventId the id; empty for none (the default)
         * @return this builder
         */
        public Builder lastEventId(String lastEventId) {
            this.lastEventId = Objects.requireNonNull(lastEventId, "lastEventId");
            return this;
        }

        /**
         * The reconnect delays. Default {@link RetryPolicy#create()}.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder retryPolicy(RetryPolicy policy) {
            this.retryPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * How long the stream may be silent (no event, comment or byte) before it counts as
         * stalled and is reconnected; also the limit on waiting for the response head. Default 5
         * minutes; {@link Duration#ZERO} turns stall detection off. The body of an error response
         * (kept for {@link StreamHttpException#body()}) is read for at most this long; with stall
         * detection off, for at most 5 s.
         *
         * @param readTimeout zero or positive
         * @return this builder
         */
        public Builder readTimeout(Duration readTimeout) {
            this.readTimeout = Objects.requireNonNull(readTimeout, "readTimeout");
            return this;
        }

        /**
         * How many consecutive failed attempts end the source (with the last error). Default 0:
         * never give up.
         *
         * @param maxAttempts 0 for no limit, or at least 1
         * @return this builder
         */
        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * Whether 500, 502, 503, 504 and 429 are retried (default) or, as in a browser, fatal.
         *
         * @param retry {@code true} to retry them
         * @return this builder
         */
        public Builder retryServerErrors(boolean retry) {
            this.retryServerErrors = retry;
            return this;
        }

        /**
         * The HTTP client to use. Its redirect policy, executor and version apply. Default: one
         * client shared by all sources (redirects followed, virtual threads, 10 s connect timeout).
         *
         * @param client the client
         * @return this builder
         */
        public Builder httpClient(HttpClient client) {
            this.httpClient = Objects.requireNonNull(client, "client");
            return this;
        }

        /**
         * Where listener callbacks run (still one at a time, in order). Default: a new virtual
         * thread of the source's own for each run of callbacks; never the thread that delivered the
         * bytes. An executor given here must not run tasks on the calling thread.
         * that delivered the bytes.
         *
         * @param executor the executor
         * @return this builder
         */
        public Builder callbackExecutor(Executor executor) {
            this.callbackExecutor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * The timer for reconnect delays and stall checks. Default {@link Scheduler#system()}. The
         * server module's {@code dev.ssekit.Scheduler} extends this type, so a scheduler shared with
         * a broadcaster fits here too.
         *
         * @param scheduler the scheduler
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * The time source for stall detection and the healthy-connection reset. Default {@link
         * Ticker#system()}.
         *
         * @param ticker the ticker
         * @return this builder
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * The source of jitter. Default {@link RandomGenerator#getDefault()}.
         *
         * @param random the generator; must be thread-safe if shared
         * @return this builder
         */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * The most bytes a line of the stream, or the data of one event, may hold. A server that
         * sends more (for example one that never sends a newline) would otherwise grow the
         * client's memory without limit: the stream is dropped as soon as the bound is exceeded and
         * the source closes with a {@link StreamTooLargeException} (it does not reconnect, since
         * the server would send the same event again). The events before it are delivered. The
         * parser holds at most about twice this (a line and an event's data). Default 8 MiB.
         *
         * @param maxEventSize in bytes; positive
         * @return this builder
         */
        public Builder maxEventSize(int maxEventSize) {
            this.maxEventSize = maxEventSize;
            return this;
        }

        /**
         * Validates and builds. The source is not connected until {@link EventSource#start} or
         * {@link EventSource#events()}.
         *
         * @return the source
         * @throws IllegalArgumentException naming the setting and its value when one is invalid
         */
        public EventSource build() {
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new IllegalArgumentException("uri must be http or https: " + uri);
            }
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("uri has no host: " + uri);
            }
            if (readTimeout.isNegative()) {
                throw new IllegalArgumentException("readTimeout must not be negative: " + readTimeout);
            }
            if (maxEventSize <= 0) {
                throw new IllegalArgumentException("maxEventSize must be positive: " + maxEventSize);
            }
            if (maxAttempts < 0) {
                throw new IllegalArgumentException("maxAttempts must be 0 (no limit) or positive: " + maxAttempts);
            }
            if (!lastEventId.isEmpty() && unsendableIdReason(lastEventId, false) != null) {
                throw new IllegalArgumentException("lastEventId must be printable ASCII or TAB: \"" + escape(lastEventId)
                        + "\" cannot be sent, since " + unsendableIdReason(lastEventId, false));
            }
            try {
                HttpRequest.newBuilder(uri).method(method, body);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("method " + method + " cannot be sent: " + e.getMessage(), e);
            }
            String oneShot = oneShotKind(body);
            if (oneShot != null) {
                throw new IllegalArgumentException("method " + method + " has a body that cannot be replayed (" + oneShot
                        + "): the body is sent again on every reconnection; use BodyPublishers.ofString, ofByteArray or ofFile");
            }
            for (Map.Entry<String, String> h : headers.entrySet()) {
                try {
                    HttpRequest.newBuilder(uri).setHeader(h.getKey(), h.getValue());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("header " + h.getKey() + " cannot be sent: " + e.getMessage(), e);
                }
            }
            return new EventSource(this);
        }
    }
}
