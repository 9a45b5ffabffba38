package dev.ssekit.mercure;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.client.EventSource;
import dev.ssekit.client.EventSourceListener;
import dev.ssekit.client.StreamException;
import dev.ssekit.client.StreamHttpException;
import dev.ssekit.codec.SseEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * An open subscription to a Mercure hub: an ssekit-client {@link EventSource} on the hub URL with
 * {@code match} / {@code match_urlpattern} parameters (draft-dunglas-mercure-08 L137-146). It
 * reconnects by itself after network failures, sending {@code Last-Event-ID} with the id of the last
 * update received (the hub replays what came after it, L922-964) and, when the client has a key, a
 * freshly minted token (hubs close a stream no later than its token's {@code exp}). A refusal (400,
 * 401, 403) ends it with a {@link MercureException}. Updates go to a {@link SubscriptionListener}
 * ({@link Builder#start}) or, for blocking code, into a {@link java.util.stream.Stream} ({@link
 * Builder#stream}).
 *
 * <p>Thread-safe: {@link #close()} may be called from any thread, also from a listener callback.
 */
public final class Subscription implements AutoCloseable {

    private final EventSource source;
    private final URI uri;
    private final Consumer<Subscription> onEnd;
    private volatile Optional<String> resumedFrom = Optional.empty();

    private Subscription(EventSource source, URI uri, Consumer<Subscription> onEnd) {
        this.source = source;
        this.uri = uri;
        this.onEnd = onEnd;
    }

    /**
     * The URI subscribed to: the hub URL with the matchers.
     *
     * @return the URI
     */
    public URI uri() {
        return uri;
    }

    /**
     * The id of the last update received, from which a reconnection (or a new subscription given
     * it as {@link Builder#lastEventId}) resumes.
     *
     * @return the id; empty before the first update (or the {@link Builder#lastEventId} given)
     */
    public String lastEventId() {
        return source.lastEventId();
    }

    /**
     * The {@code Mercure-Last-Event-ID} of the last connection, as {@link SubscriptionListener#onOpen}
     * got it.
     *
     * @return the value, or empty when the last connection carried no cursor or none is open yet
     */
    public Optional<String> resumedFrom() {
        return resumedFrom;
    }

    /**
     * Whether the subscription is connecting (or waiting to reconnect), open, or closed for good.
     *
     * @return the state
     */
    public EventSource.State state() {
        return source.state();
    }

    /**
     * Closes the subscription: the connection is cancelled at once, and the listener's {@link
     * SubscriptionListener#onClosed} runs (once, on the callback thread). Returns at once; never
     * throws. Idempotent, thread-safe.
     */
    @Override
    public void close() {
        source.close();
    }

    /** An event as an update. */
    static ReceivedUpdate update(SseEvent event) {
        return new ReceivedUpdate(event.id(), event.type(), event.data());
    }

    /** Turns a client failure into what the listener gets: a hub's error status becomes a {@link MercureException}. */
    static IOException translate(StreamException e) {
        if (e instanceof StreamHttpException http) {
            MercureException m = new MercureException("subscribing", http.status(),
                    http.headers().firstValue("WWW-Authenticate").orElse(null), http.body().orElse(null));
            m.initCause(e);
            return m;
        }
        return e;
    }

    /**
     * Builds and starts a {@link Subscription}; from {@link MercureClient#subscription()}. Setters
     * reject null; {@link #start} validates and names the setting and value it rejects. Not
     * thread-safe.
     */
    public static final class Builder {
        private final MercureClient client;
        private final List<TopicMatcher> matchers = new ArrayList<>();
        private String lastEventId = "";
        private boolean anonymous;
        private List<Grant> grants;
        private Duration readTimeout = Duration.ofMinutes(2);

        Builder(MercureClient client) {
            this.client = client;
        }

        /**
         * Adds {@code match} parameters: exact topics (or {@code *} for every topic).
         *
         * @param topics the topics
         * @return this builder
         */
        public Builder match(String... topics) {
            Arrays.stream(topics).map(TopicMatcher::exact).forEach(matchers::add);
            return this;
        }

        /**
         * Adds {@code match_urlpattern} parameters, e.g. {@code https://example.com/books/:id}.
         *
         * @param patterns WHATWG URL patterns
         * @return this builder
         */
        public Builder matchUrlPattern(String... patterns) {
            Arrays.stream(patterns).map(TopicMatcher::urlPattern).forEach(matchers::add);
            return this;
        }

        /**
         * Adds matchers.
         *
         * @param matchers the matchers
         * @return this builder
         */
        public Builder matchers(TopicMatcher... matchers) {
            for (TopicMatcher m : matchers) {
                this.matchers.add(Objects.requireNonNull(m, "matcher"));
            }
            return this;
        }

        /**
         * Resumes after this update: the hub sends what it holds after it ({@code Last-Event-ID}).
         * Default: none, only updates published from now on.
         *
         * @param lastEventId the id of the last update seen; {@code earliest} for everything the
         *     hub holds; printable ASCII
         * @return this builder
         */
        public Builder lastEventId(String lastEventId) {
            this.lastEventId = Objects.requireNonNull(lastEventId, "lastEventId");
            return this;
        }

        /**
         * Whether to subscribe without a token: public updates only. Default {@code false}: with
         * the client's token (a client without key or token always subscribes anonymously).
         *
         * @param anonymous {@code true} for no token
         * @return this builder
         */
        public Builder anonymous(boolean anonymous) {
            this.anonymous = anonymous;
            return this;
        }

        /**
         * The grants of this subscription's token, when the client mints tokens. Default: the
         * client's grants.
         *
         * @param grants its {@code authorization_details}
         * @return this builder
         */
        public Builder grants(Grant... grants) {
            this.grants = List.of(grants);
            return this;
        }

        /**
         * How long the stream may be silent before it counts as stalled and is reconnected; hubs
         * send keep-alive comments (ssekit-hub every 15 s by default). Default 2 minutes.
         *
         * @param readTimeout positive
         * @return this builder
         */
        public Builder readTimeout(Duration readTimeout) {
            this.readTimeout = Objects.requireNonNull(readTimeout, "readTimeout");
            return this;
        }

        /**
         * Connects and delivers to {@code listener}. Returns at once.
         *
         * @param listener receives the updates; see {@link SubscriptionListener} for the order
         * @return the subscription; close it when done
         * @throws IllegalArgumentException naming the setting when no matcher was given, when
         *     {@code lastEventId} is not printable ASCII, or {@code readTimeout} is not positive
         * @throws IllegalStateException if the client is closed
         */
        public Subscription start(SubscriptionListener listener) {
            Objects.requireNonNull(listener, "listener");
            Subscription s = open();
            s.source.start(new EventSourceListener() {
                @Override
                public void onOpen(HttpResponse.ResponseInfo response) {
                    Optional<String> from = response.headers().firstValue("Mercure-Last-Event-ID");
                    s.resumedFrom = from;
                    listener.onOpen(from);
                }

                @Override
                public void onEvent(SseEvent event) {
                    // every event is an update: ssekit-hub ends its streams without ssekit's "event: close"
                    // notice (SseOptions.closeEvent off), as the reference hub does
                    listener.onUpdate(update(event));
                }

                @Override
                public void onError(StreamException error) {
                    listener.onError(translate(error));
                }

                @Override
                public void onClosed(Optional<StreamException> failure) {
                    try {
                        s.onEnd.accept(s);
                    } finally {
                        listener.onClosed(failure.map(Subscription::translate));
                    }
                }
            });
            return s;
        }

        /**
         * Connects and returns the updates as a blocking, sequential stream, for code that runs on
         * virtual threads. It is ssekit-client's {@link EventSource#events()} (the same parser,
         * reconnection and back-pressure) with each event as a {@link ReceivedUpdate}:
         * reconnections, with {@code Last-Event-ID} and a fresh token, are invisible to it; at most
         * 256 updates are buffered, beyond that the connection is not read until the consumer
         * catches up (the hub, not this JVM, holds what is not read yet).
         *
         * <pre>{@code
         * try (Stream<ReceivedUpdate> updates = hub.subscription().match("https://example.com/books/1").stream()) {
         *     updates.forEach(u -> System.out.println(u.data()));
         * }
         * }</pre>
         *
         * <p>The stream ends (its iterator's {@code hasNext()} returns {@code false}) when it is
         * closed, from any thread, or the client is {@link MercureClient#close() closed}, or the hub
         * answered 204. It throws {@link java.io.UncheckedIOException} once when the subscription
         * fails for good: wrapping a {@link MercureException} when the hub refused it (400, 401,
         * 403...), else the client's {@code dev.ssekit.client.StreamException}. A consumer thread
         * interrupted while it waits closes the subscription and the stream ends. The {@code
         * Mercure-Last-Event-ID} answers are not reported: use {@link #start} for them. The stream
         * is for one consumer thread; closing it is thread-safe and idempotent.
         *
         * @return the updates; close it (try-with-resources) to end the subscription
         * @throws IllegalArgumentException as {@link #start}
         * @throws IllegalStateException if the client is closed
         */
        public Stream<ReceivedUpdate> stream() {
            Subscription s = open();
            Stream<SseEvent> events = s.source.events();
            Iterator<SseEvent> it = events.iterator();
            Iterator<ReceivedUpdate> updates = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    try {
                        if (it.hasNext()) {
                            return true;
                        }
                    } catch (UncheckedIOException e) {
                        s.onEnd.accept(s);
                        if (e.getCause() instanceof StreamException failure) {
                            throw new UncheckedIOException(translate(failure));
                        }
                        throw e;
                    }
                    s.onEnd.accept(s);
                    return false;
                }

                @Override
                public ReceivedUpdate next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return update(it.next());
                }
            };
            return StreamSupport.stream(Spliterators.spliteratorUnknownSize(updates, Spliterator.ORDERED | Spliterator.NONNULL),
                    false).onClose(() -> {
                        events.close();
                        s.onEnd.accept(s);
                    });
        }

        /** Validates, builds the source and registers the subscription with the client; does not start it. */
        private Subscription open() {
            if (matchers.isEmpty()) {
                throw new IllegalArgumentException("matchers: give at least one (match, matchUrlPattern)");
            }
            if (!lastEventId.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("lastEventId must be printable ASCII (sent as a header): \""
                        + Text.escape(lastEventId) + "\"");
            }
            if (readTimeout.isNegative() || readTimeout.isZero()) {
                throw new IllegalArgumentException("readTimeout must be positive: " + readTimeout);
            }
            URI uri = uri(client.hubUrl(), matchers);
            EventSource.Builder b = EventSource.builder(uri).httpClient(client.httpClient()).readTimeout(readTimeout)
                    .lastEventId(lastEventId);
            if (!anonymous && client.authenticates()) {
                List<Grant> tokenGrants = grants;
                // each attempt asks again: a reconnection after the hub closed the stream at exp gets a fresh token
                b.headers(() -> Map.of("Authorization", "Bearer " + client.token(tokenGrants)));
            }
            Subscription s = new Subscription(b.build(), uri, client::forget);
            client.track(s);
            return s;
        }

        /** The hub URL with one parameter per matcher, appended to any query it has. */
        static URI uri(URI hub, List<TopicMatcher> matchers) {
            String params = matchers.stream()
                    .map(m -> (m.type() == TopicMatcher.Type.EXACT ? "match" : "match_" + m.type().wireName()) + "="
                            + URLEncoder.encode(m.match(), UTF_8))
                    .collect(Collectors.joining("&"));
            String s = hub.toString();
            int hash = s.indexOf('#');
            if (hash >= 0) {
                s = s.substring(0, hash);
            }
            return URI.create(s + (hub.getRawQuery() == null ? "?" : "&") + params);
        }
    }
}
