package dev.ssekit.client;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The events of one HTTP response, as a {@link Flow.Publisher} driven by demand: the body
 * subscriber of {@link SseBodyHandlers#ofPublisher()} (and, through a blocking iterator, of {@link
 * SseBodyHandlers#ofEvents()}).
 *
 * <p>It asks {@code java.net.http} for the next list of buffers only when the events parsed from the
 * previous one were all delivered and the subscriber wants more: while demand is zero nothing more
 * is read than the buffers the HTTP client already holds and the events of one list (bounded by
 * the client's buffer size), so the socket's receive window fills and the server stalls. A status
 * other than 2xx, or a 2xx that is not {@code text/event-stream}, reads the body as text (up to 64
 * KiB) and then fails the subscriber with {@link StreamHttpException} or {@link
 * StreamContentTypeException}; a 204 is a stream without events. The end of the body completes it (a last event without its blank
 * line is dropped, as WHATWG says); a network failure is {@link StreamIoException}; a line or event
 * over {@code maxEventSize} is {@link StreamTooLargeException}. {@code cancel()} cancels the body,
 * which makes {@code java.net.http} close the connection (HTTP/1.1) or reset the stream (HTTP/2).
 *
 * <p>Contract: Reactive Streams 1.0 (checked by the TCK's {@code FlowPublisherVerification}): one
 * subscriber (a second one gets {@code onError(IllegalStateException)}); signals are serialized by
 * a work-in-progress counter; {@code request(n <= 0)} is {@code onError(IllegalArgumentException)}.
 * Thread-safe.
 */
final class ResponseEventPublisher implements HttpResponse.BodySubscriber<Flow.Publisher<SseEvent>>,
        Flow.Publisher<SseEvent>, Flow.Subscription {

    private static final System.Logger LOG = System.getLogger(SseBodyHandlers.class.getName());

    private final int maxEventSize;
    private final SseParser parser;
    private final ArrayDeque<SseEvent> pending = new ArrayDeque<>();
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final ErrorBody errorBody;
    private volatile Flow.Subscriber<? super SseEvent> subscriber;
    private volatile Flow.Subscription upstream;
    private volatile boolean upstreamRequested;
    private volatile boolean upstreamDone;
    private volatile Throwable failure;
    private volatile boolean cancelled;
    private boolean terminated;

    /**
     * @param info the response head: decides between streaming events and reading an error body
     * @param maxEventSize the parser's bound on a line and on an event's data
     */
    ResponseEventPublisher(HttpResponse.ResponseInfo info, int maxEventSize) {
        this.maxEventSize = maxEventSize;
        this.parser = SseParser.create(new SseParser.Handler() {
            @Override
            public void onEvent(SseEvent event) {
                pending.add(event);
            }

            @Override
            public void onComment(String comment) {
            }

            @Override
            public void onRetry(Duration delay) {
            }
        }, "", maxEventSize);
        int status = info.statusCode();
        String type = info.headers().firstValue("Content-Type").orElse("");
        if (status < 200 || status > 299) {
            errorBody = new ErrorBody();
            errorBody.getBody().thenAccept(body -> fail(new StreamHttpException(status, info.headers(), false,
                    EventSource.retryAfter(info.headers()), body)));
        } else if (status != 204 && !EventSource.isEventStream(type)) {
            errorBody = new ErrorBody();
            errorBody.getBody().thenAccept(body -> fail(new StreamContentTypeException(status, info.headers(), type, body)));
        } else {
            errorBody = null;
        }
        if (errorBody != null) {
            // the error body is read within a time bound: a body that trickles for ever must not
            // keep the failure (and the caller's first pull) waiting for ever
            CompletableFuture.delayedExecutor(SseBodyHandlers.ERROR_BODY_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS,
                    task -> Thread.ofVirtual().name("ssekit-error-body-timeout").start(task)).execute(errorBody::finishNow);
        }
    }

    // --- the body subscriber side (java.net.http) ---

    @Override
    public void onSubscribe(Flow.Subscription s) {
        if (errorBody != null) {
            errorBody.onSubscribe(s);
            return;
        }
        upstream = s;
        if (cancelled) {
            s.cancel();
        }
        drain();
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        if (errorBody != null) {
            errorBody.onNext(items);
            return;
        }
        StreamTooLargeException tooLarge = null;
        synchronized (parser) {
            if (!cancelled) {
                try {
                    for (ByteBuffer b : items) {
                        parser.feed(b);
                    }
                } catch (SseParser.LimitExceededException e) {
                    tooLarge = new StreamTooLargeException(maxEventSize, e);
                }
            }
        }
        upstreamRequested = false;
        if (tooLarge != null) {
            upstream.cancel();
            fail(tooLarge);
            return;
        }
        drain();
    }

    @Override
    public void onError(Throwable t) {
        if (errorBody != null) {
            errorBody.onError(t);
            return;
        }
        fail(t instanceof StreamException se ? se : new StreamIoException(t));
    }

    @Override
    public void onComplete() {
        if (errorBody != null) {
            errorBody.onComplete();
            return;
        }
        upstreamDone = true;
        drain();
    }

    @Override
    public CompletionStage<Flow.Publisher<SseEvent>> getBody() {
        return CompletableFuture.completedFuture(this);
    }

    // --- the publisher side ---

    /**
     * Refuses a subscriber beyond the one a publisher takes (Reactive Streams 1.9, 2.13): an inert
     * subscription, then {@code onError(IllegalStateException)} with this message. Shared with {@link
     * SourcePublisher}.
     */
    static void refuse(Flow.Subscriber<?> s, String message) {
        s.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
            }

            @Override
            public void cancel() {
            }
        });
        s.onError(new IllegalStateException(message));
    }

    @Override
    public void subscribe(Flow.Subscriber<? super SseEvent> s) {
        Objects.requireNonNull(s, "subscriber");
        if (!subscribed.compareAndSet(false, true)) {
            refuse(s, "the events of one response can be read by one subscriber only");
            return;
        }
        try {
            s.onSubscribe(this);
        } catch (RuntimeException | Error e) {
            subscriberThrew(e, "onSubscribe");
            return;
        }
        subscriber = s; // only now: no signal may overtake onSubscribe
        drain();
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            fail(new IllegalArgumentException("request(" + n + "): demand must be positive (Reactive Streams 3.9)"));
            cancelUpstream();
            return;
        }
        demand.getAndUpdate(d -> d + n < 0 ? Long.MAX_VALUE : d + n);
        drain();
    }

    @Override
    public void cancel() {
        cancelled = true;
        subscriber = null; // Reactive Streams 3.13: drop the subscriber
        synchronized (parser) {
            pending.clear();
        }
        cancelUpstream();
        drain();
    }

    /**
     * Reactive Streams 2.13: a subscriber that throws has its subscription cancelled (the
     * connection closed); the throw is logged, since no signal may reach that subscriber any more.
     */
    private void subscriberThrew(Throwable e, String signal) {
        cancel();
        LOG.log(System.Logger.Level.WARNING, "Flow.Subscriber threw from " + signal
                + " (Reactive Streams 2.13); its subscription is cancelled and the response closed", e);
    }

    private void cancelUpstream() {
        if (errorBody != null) {
            errorBody.finishNow();
            return;
        }
        Flow.Subscription up = upstream;
        if (up != null) {
            up.cancel();
        }
    }

    private void fail(Throwable t) {
        if (failure == null) {
            failure = t;
        }
        drain();
    }

    /** Delivers what demand allows, asks for more bytes when needed, and ends; one thread at a time. */
    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        while (true) {
            Flow.Subscriber<? super SseEvent> s = subscriber;
            if (s != null && !terminated) {
                if (cancelled) {
                    terminated = true;
                    synchronized (parser) {
                        pending.clear();
                    }
                } else if (failure instanceof IllegalArgumentException invalidRequest) {
                    terminated = true;
                    subscriber = null;
                    s.onError(invalidRequest);
                } else {
                    SseEvent next;
                    while (demand.get() > 0 && !cancelled && (next = poll()) != null) {
                        demand.decrementAndGet();
                        try {
                            s.onNext(next);
                        } catch (RuntimeException | Error e) {
                            terminated = true;
                            subscriberThrew(e, "onNext");
                            break;
                        }
                    }
                    boolean empty = isEmpty();
                    Throwable f = failure;
                    if (!cancelled && empty && f != null) {
                        terminated = true;
                        subscriber = null;
                        s.onError(f);
                    } else if (!cancelled && empty && upstreamDone) {
                        terminated = true;
                        subscriber = null;
                        s.onComplete();
                    } else if (!cancelled && empty && demand.get() > 0 && !upstreamRequested && errorBody == null) {
                        Flow.Subscription up = upstream;
                        if (up != null) {
                            upstreamRequested = true;
                            up.request(1); // may deliver onNext on this thread: drain() then only counts
                        }
                    }
                }
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    private SseEvent poll() {
        synchronized (parser) {
            return pending.poll();
        }
    }

    private boolean isEmpty() {
        synchronized (parser) {
            return pending.isEmpty();
        }
    }

    /** For tests: how many parsed events wait for demand. */
    int buffered() {
        synchronized (parser) {
            return pending.size();
        }
    }

    /** The failure, for {@link SseBodyHandlers#ofEvents()}. */
    Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }
}
