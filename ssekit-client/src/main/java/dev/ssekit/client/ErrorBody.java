package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reads the body of a response that is not an event stream (an error status, or the wrong content
 * type) as text, for {@link StreamHttpException#body()} and {@link
 * StreamContentTypeException#body()}: at most {@link #LIMIT} bytes, decoded as UTF-8 (malformed
 * input replaced, a character cut by the limit dropped). It stops reading, and cancels the rest of
 * the body, at the limit or when {@link #finishNow()} is called (a timeout of the caller's).
 *
 * <p>Contract: a {@link HttpResponse.BodySubscriber} for one response; thread-safe: its body
 * completes once, with empty when no byte arrived.
 */
final class ErrorBody implements HttpResponse.BodySubscriber<Optional<String>> {
    /** The most bytes of an error body kept: 64 KiB. */
    static final int LIMIT = 64 * 1024;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<Optional<String>> body = new CompletableFuture<>();
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile Flow.Subscription subscription;

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (done.get()) {
            s.cancel();
        } else {
            s.request(Long.MAX_VALUE);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        boolean full = false;
        synchronized (bytes) {
            for (ByteBuffer b : items) {
                int n = Math.min(b.remaining(), LIMIT - bytes.size());
                byte[] a = new byte[n];
                b.get(a);
                bytes.writeBytes(a);
                full = bytes.size() >= LIMIT;
                if (full) {
                    break;
                }
            }
        }
        if (full) {
            finishNow();
        }
    }

    @Override
    public void onError(Throwable t) {
        complete();
    }

    @Override
    public void onComplete() {
        complete();
    }

    /** Stops reading: cancels the rest of the body and completes with what arrived. */
    void finishNow() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        complete();
    }

    private void complete() {
        if (done.compareAndSet(false, true)) {
            byte[] b;
            synchronized (bytes) {
                b = bytes.toByteArray();
            }
            body.complete(b.length == 0 ? Optional.empty() : Optional.of(decode(b)));
        }
    }

    @Override
    public CompletionStage<Optional<String>> getBody() {
        return body;
    }

    /** UTF-8, malformed input replaced; an incomplete character at the end (cut by the limit) dropped. */
    static String decode(byte[] b) {
        CharsetDecoder d = UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        ByteBuffer in = ByteBuffer.wrap(b);
        CharBuffer out = CharBuffer.allocate(b.length + 1);
        d.decode(in, out, false); // false: trailing bytes of a cut character stay in "in", unread
        out.flip();
        return out.toString();
    }
}
