package dev.ssekit.client;

import dev.ssekit.codec.SseEvent;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Body handlers that read one {@code text/event-stream} response of {@code java.net.http} as
 * events, in the style of {@link HttpResponse.BodyHandlers}: for a streaming API answered to a
 * POST (the chat-completion streams of LLM providers, job progress), where the stream must not be
 * reopened when it ends and its first error must surface. There is no reconnection, no {@code
 * Last-Event-ID} and no read timeout here (use {@link java.net.http.HttpRequest.Builder#timeout} for
 * the head, and {@link EventSource} for a stream to follow for good). Parsing is ssekit's one
 * codec, as in {@link EventSource}.
 *
 * <pre>{@code
 * HttpResponse<Stream<SseEvent>> response = client.send(request, SseBodyHandlers.ofEvents());
 * try (Stream<SseEvent> events = response.body()) {
 *     events.takeWhile(e -> !e.data().equals("[DONE]")).forEach(e -> System.out.println(e.data()));
 * }
 * }</pre>
 *
 * <p>Failures: a status other than 2xx fails with {@link StreamHttpException}, a 2xx whose {@code
 * Content-Type} is not {@code text/event-stream} with {@link StreamContentTypeException} (a 204 No
 * Content is a stream without events); both carry
 * the status, the headers and the body text ({@code body()}, up to 64 KiB of UTF-8, read until the
 * body ends but for at most 5 s after the response head: what arrived by then, the rest cancelled). The response itself is returned as usual: the failure comes on the first pull of
 * the stream (as an {@link UncheckedIOException} wrapping the exception) or as the publisher's
 * {@code onError}. A line or event larger than {@code maxEventSize} fails with {@link
 * StreamTooLargeException}, a broken connection with {@link StreamIoException}. A last event
 * without its terminating blank line is dropped, as WHATWG says.
 *
 * <p>Thread-safe: the handlers are stateless; each response gets its own body subscriber.
 */
public final class SseBodyHandlers {

    /**
     * How long the body of a failed response (an error status, or not an event stream) is read for
     * {@code body()}, from the response head on: what arrived by then is the body, the rest is
     * cancelled, so a body that trickles for ever does not hold back the failure.
     */
    static final Duration ERROR_BODY_TIMEOUT = Duration.ofSeconds(5);

    private SseBodyHandlers() {
    }

    /**
     * The events of the response as a lazy, sequential {@link Stream}: nothing is read until the
     * first pull, and each pull reads only as much of the body as it needs (the socket is not read
     * while the stream is not pulled). The stream ends at the end of the body. Closing the stream
     * (or an exception in its pipeline closing it) cancels the request: {@code java.net.http}
     * closes the connection (HTTP/1.1) or resets the stream (HTTP/2). Close it, for example with
     * try-with-resources, when not reading to the end: a stream neither read to its end nor closed
     * keeps its connection open for as long as the server keeps it. Closing it from another thread
     * ends a pull blocked on the reading thread (its {@code hasNext()} is then false). Events up to
     * 8 MiB.
     *
     * @return a handler; its stream is for one consumer thread and throws {@link
     *     UncheckedIOException} wrapping a {@link StreamException} when the response fails
     */
    public static HttpResponse.BodyHandler<Stream<SseEvent>> ofEvents() {
        return ofEvents(EventSource.DEFAULT_MAX_EVENT_SIZE);
    }

    /**
     * {@link #ofEvents()} with a bound on a line and on an event's data, as {@link
     * EventSource.Builder#maxEventSize(int)}.
     *
     * @param maxEventSize in bytes; positive
     * @return a handler
     * @throws IllegalArgumentException if {@code maxEventSize} is not positive
     */
    public static HttpResponse.BodyHandler<Stream<SseEvent>> ofEvents(int maxEventSize) {
        checkSize(maxEventSize);
        return info -> new EventsBody(new ResponseEventPublisher(info, maxEventSize));
    }

    /**
     * The events of the response as a {@link Flow.Publisher} driven by demand, for Reactor, RxJava,
     * Mutiny, Kotlin coroutines or Pekko (all adapt a JDK {@code Flow.Publisher}). One subscriber;
     * a second gets {@code onError(IllegalStateException)}. While demand is zero nothing is read
     * from the socket beyond the buffers {@code java.net.http} holds and the events of the last one
     * read, so a slow subscriber stalls the server (TCP back-pressure). {@code cancel()} cancels
     * the request: the connection is closed (HTTP/1.1) or the stream reset (HTTP/2). The end of the
     * body is {@code onComplete}. Events up to 8 MiB.
     *
     * @return a handler; its publisher follows Reactive Streams 1.0
     */
    public static HttpResponse.BodyHandler<Flow.Publisher<SseEvent>> ofPublisher() {
        return ofPublisher(EventSource.DEFAULT_MAX_EVENT_SIZE);
    }

    /**
     * {@link #ofPublisher()} with a bound on a line and on an event's data, as {@link
     * EventSource.Builder#maxEventSize(int)}.
     *
     * @param maxEventSize in bytes; positive
     * @return a handler
     * @throws IllegalArgumentException if {@code maxEventSize} is not positive
     */
    public static HttpResponse.BodyHandler<Flow.Publisher<SseEvent>> ofPublisher(int maxEventSize) {
        checkSize(maxEventSize);
        return info -> new ResponseEventPublisher(info, maxEventSize);
    }

    private static void checkSize(int maxEventSize) {
        if (maxEventSize <= 0) {
            throw new IllegalArgumentException("maxEventSize must be positive: " + maxEventSize);
        }
    }

    /** The body subscriber of {@link #ofEvents}: the publisher read through a blocking iterator. */
    private static final class EventsBody implements HttpResponse.BodySubscriber<Stream<SseEvent>> {
        private final ResponseEventPublisher publisher;
        private final Stream<SseEvent> stream;

        EventsBody(ResponseEventPublisher publisher) {
            this.publisher = publisher;
            PullIterator it = new PullIterator();
            publisher.subscribe(it);
            this.stream = StreamSupport.stream(Spliterators.spliteratorUnknownSize(it,
                    Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(it::cancel);
        }

        @Override
        public CompletionStage<Stream<SseEvent>> getBody() {
            return CompletableFuture.completedFuture(stream);
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            publisher.onSubscribe(subscription);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            publisher.onNext(item);
        }

        @Override
        public void onError(Throwable throwable) {
            publisher.onError(throwable);
        }

        @Override
        public void onComplete() {
            publisher.onComplete();
        }
    }

    /**
     * Requests one event per pull and waits for it. For one consumer thread; the subscriber side is
     * called serially by the publisher.
     */
    private static final class PullIterator implements Flow.Subscriber<SseEvent>, Iterator<SseEvent> {
        private static final Object END = new Object();
        private final LinkedBlockingQueue<Object> signals = new LinkedBlockingQueue<>();
        private volatile Flow.Subscription subscription;
        private Object next;
        private boolean requested;
        private volatile boolean ended;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(SseEvent item) {
            signals.add(item);
        }

        @Override
        public void onError(Throwable t) {
            signals.add(t);
        }

        @Override
        public void onComplete() {
            signals.add(END);
        }

        /**
         * Closes the stream; from any thread. A pull blocked on another thread is woken (it ends
         * the stream): the publisher sends nothing after {@code cancel()}, so the end is queued here.
         */
        void cancel() {
            ended = true;
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            signals.add(END);
        }

        @Override
        public boolean hasNext() {
            if (next != null) {
                return true;
            }
            if (ended) {
                return false;
            }
            if (!requested) {
                requested = true;
                subscription.request(1);
            }
            Object o;
            try {
                o = signals.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancel();
                return false;
            }
            requested = false;
            if (o == END) {
                ended = true;
                return false;
            }
            if (o instanceof Throwable t) {
                ended = true;
                subscription.cancel();
                if (t instanceof StreamException se) {
                    throw new UncheckedIOException(se);
                }
                throw new UncheckedIOException(new StreamIoException(t));
            }
            next = o;
            return true;
        }

        @Override
        public SseEvent next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            SseEvent e = (SseEvent) next;
            next = null;
            return e;
        }
    }
}
