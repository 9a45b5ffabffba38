package dev.ssekit.client;

import dev.ssekit.codec.SseParser;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One HTTP attempt of an {@link EventSource}, from sending the request to the end of its stream:
 * it checks the status and content type, feeds the source's parser as {@code java.net.http}
 * delivers the body (asking for the next buffer only once the listener has handled the previous
 * one), watches for stalls, and reports how it ended to the source exactly once ({@link
 * EventSource#failed}, or closing the source after 204 or a fatal error).
 *
 * <p>Contract: {@link #start()} once; {@link #cancel()} any time, from any thread, idempotent;
 * after either, the attempt finishes exactly once (an {@link java.util.concurrent.atomic.AtomicBoolean}
 * guards it), and an exception while finishing closes the source rather than vanish. Thread-safe:
 * its state is volatile or atomic, and the parser it shares with the source is fed under the
 * source's parser lock.
 */
final class HttpAttempt {
    private final EventSource source;
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile boolean cancelled;
    private volatile CompletableFuture<HttpResponse<Void>> response;
    private volatile StreamSubscriber subscriber;
    private volatile StreamException failure;
    private volatile boolean noContent;
    private volatile Future<?> watchdog;
    private volatile long lastActivity;
    /** Bytes were handed to the listener and not yet asked for again: the consumer, not the server, is slow. */
    private volatile boolean busy;
    volatile long openedAt = Long.MIN_VALUE;
    /** Whether this attempt's stream dispatched an event. */
    volatile boolean delivered;

    /**
     * @param source the source this attempt belongs to
     */
    HttpAttempt(EventSource source) {
        this.source = source;
    }

    void start() {
        HttpRequest request;
        try {
            request = source.request();
        } catch (RuntimeException e) {
            finish(e);
            return;
        }
        response = source.client.sendAsync(request, this::handle);
        // finished on a virtual thread of the source's: never on the common pool, where the JDK
        // completes sendAsync's dependants
        response.whenCompleteAsync((r, err) -> {
            if (r != null && (r.previousResponse().isPresent() || !r.uri().equals(source.uri))) {
                // redirected: the version was another server's, and the next attempt asks source.uri
                source.lastVersion = null;
            }
            finish(err);
        }, task -> Thread.ofVirtual().name("ssekit-eventsource-finish").start(task));
        if (cancelled) {
            response.cancel(true);
        }
    }

    private HttpResponse.BodySubscriber<Void> handle(HttpResponse.ResponseInfo info) {
        int status = info.statusCode();
        source.lastVersion = info.version();
        if (cancelled) {
            return new StreamSubscriber(null);
        }
        if (status == 200) {
            String type = info.headers().firstValue("Content-Type").orElse("");
            if (!EventSource.isEventStream(type)) {
                return errorBody(body -> new StreamContentTypeException(status, info.headers(), type, body));
            }
            openedAt = source.ticker.read();
            lastActivity = openedAt;
            StreamSubscriber s = new StreamSubscriber(this);
            subscriber = s;
            if (!source.readTimeout.isZero()) {
                // armed before onOpen runs, so the stall bound holds from the open on
                watchdog = source.scheduler.schedule(this::checkStall, source.readTimeout);
            }
            source.state.compareAndSet(EventSource.State.CONNECTING, EventSource.State.OPEN);
            source.callbacks.run(() -> source.listener.onOpen(info));
            return s;
        }
        if (status == 204) {
            noContent = true;
            return new StreamSubscriber(null);
        }
        boolean transientStatus = status == 500 || status == 502 || status == 503 || status == 504 || status == 429;
        boolean retry = source.retryServerErrors && transientStatus;
        java.time.Duration retryAfter = EventSource.retryAfter(info.headers());
        return errorBody(body -> new StreamHttpException(status, info.headers(), retry, retryAfter, body));
    }

    /**
     * Reads the body of a response that is not a stream (up to 64 KiB, within the read timeout;
     * with stall detection off within {@link SseBodyHandlers#ERROR_BODY_TIMEOUT}, in real time),
     * then sets the failure made from it.
     */
    private HttpResponse.BodySubscriber<Void> errorBody(
            java.util.function.Function<Optional<String>, StreamException> failureWithBody) {
        ErrorBody body = new ErrorBody();
        if (!source.readTimeout.isZero()) {
            watchdog = source.scheduler.schedule(body::finishNow, source.readTimeout);
        } else {
            // no read timeout (a stream silent for hours) must not mean an error body read for
            // ever: a 401 trickling its body would hold the failure back as long as it trickles
            java.util.concurrent.CompletableFuture.delayedExecutor(SseBodyHandlers.ERROR_BODY_TIMEOUT.toNanos(),
                    java.util.concurrent.TimeUnit.NANOSECONDS,
                    task -> Thread.ofVirtual().name("ssekit-error-body-timeout").start(task)).execute(body::finishNow);
        }
        return HttpResponse.BodySubscribers.mapping(body, text -> {
            failure = failureWithBody.apply(text);
            return null;
        });
    }

    void touch() {
        lastActivity = source.ticker.read();
    }

    /** The listener got bytes to handle: until it asks for more, silence is its own, not the server's. */
    void busy() {
        busy = true;
    }

    /** Whether the stream is open and waiting for bytes, not held by its listener. */
    boolean reading() {
        return subscriber != null && !busy && !finished.get();
    }

    /** The listener handled its bytes; the socket is read again and silence counts from now. */
    void idle() {
        lastActivity = source.ticker.read();
        busy = false;
    }

    /** Drops the stream with {@code f}, as a stall does. */
    void fail(StreamException f) {
        failure = f;
        StreamSubscriber s = subscriber;
        if (s != null) {
            s.cancel();
        }
    }

    private void checkStall() {
        if (finished.get() || cancelled) {
            return;
        }
        long timeout = source.readTimeout.toNanos();
        if (busy) {
            // the consumer holds the stream: measure the socket again once it asks for more
            watchdog = source.scheduler.schedule(this::checkStall, source.readTimeout);
            return;
        }
        long idle = source.ticker.read() - lastActivity;
        if (idle >= timeout) {
            failure = new StreamStalledException(source.readTimeout);
            StreamSubscriber s = subscriber;
            if (s != null) {
                s.cancel();
            }
        } else {
            watchdog = source.scheduler.schedule(this::checkStall, Duration.ofNanos(timeout - idle));
        }
    }

    void cancel() {
        cancelled = true;
        StreamSubscriber s = subscriber;
        if (s != null) {
            s.cancel();
        }
        CompletableFuture<HttpResponse<Void>> r = response;
        if (r != null) {
            r.cancel(true);
        }
        finish(null);
    }

    private void finish(Throwable error) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        try {
            finishOrThrow(error);
        } catch (RuntimeException | Error e) {
            StreamException f = failure;
            source.internalFailure(e, f != null ? f : new StreamIoException(e));
        }
    }

    /** Ends the attempt: reports its failure and schedules the reconnect, or closes the source. */
    private void finishOrThrow(Throwable error) {
        Future<?> w = watchdog;
        if (w != null) {
            w.cancel(false);
        }
        source.parserLock.lock();
        try {
            source.parser.reset();
        } finally {
            source.parserLock.unlock();
        }
        if (cancelled || source.closing.get()) {
            return;
        }
        if (noContent) {
            source.terminate(Optional.empty());
            return;
        }
        StreamException f = failure;
        if (f == null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            f = cause == null ? new StreamEndedException() : new StreamIoException(cause);
            failure = f;
        }
        source.failed(f, this);
    }

    /**
     * Feeds the parser as the HTTP client delivers bytes; asks for the next buffer only once the
     * listener has handled the previous one (back-pressure). With a null attempt it refuses the
     * body at once (error statuses, cancelled attempts).
     */
    private final class StreamSubscriber implements HttpResponse.BodySubscriber<Void> {
        private final HttpAttempt attempt;
        private final CompletableFuture<Void> body = new CompletableFuture<>();
        private volatile Flow.Subscription subscription;
        private volatile boolean cancelled;

        StreamSubscriber(HttpAttempt attempt) {
            this.attempt = attempt;
            if (attempt == null) {
                cancelled = true;
            }
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (cancelled) {
                s.cancel();
                body.complete(null);
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (cancelled) {
                return;
            }
            attempt.busy();
            List<Runnable> runs;
            StreamTooLargeException tooLarge = null;
            source.parserLock.lock();
            try {
                if (cancelled) {
                    return;
                }
                try {
                    for (ByteBuffer b : items) {
                        source.parser.feed(b);
                    }
                } catch (SseParser.LimitExceededException e) {
                    tooLarge = new StreamTooLargeException(source.maxEventSize, e);
                }
                if (source.eventParsed) {
                    source.eventParsed = false;
                    attempt.delivered = true;
                }
                runs = source.callbacks.takeBatch();
            } finally {
                source.parserLock.unlock();
            }
            if (tooLarge != null) {
                // the events before the bound are delivered; then the stream is dropped for good
                StreamTooLargeException f = tooLarge;
                source.callbacks.flush(runs, () -> attempt.fail(f));
                return;
            }
            source.callbacks.flush(runs, () -> {
                Flow.Subscription s = subscription;
                attempt.idle();
                if (!cancelled && s != null) {
                    s.request(1);
                }
            });
        }

        @Override
        public void onError(Throwable t) {
            body.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            body.complete(null);
        }

        void cancel() {
            cancelled = true;
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            body.complete(null);
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> getBody() {
            return body;
        }
    }
}
