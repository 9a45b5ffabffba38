package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.Recorder;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Records every callback as a line, in order (OkHttp's recorder style), and checks the contract. */
final class RecordingListener implements EventSourceListener {
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final BlockingQueue<StreamException> errors = new LinkedBlockingQueue<>();
    volatile Optional<StreamException> closedWith;
    private final AtomicInteger closedCalls = new AtomicInteger();
    private final AtomicInteger inCallback = new AtomicInteger();

    private void record(String line) {
        assertThat(inCallback.incrementAndGet()).as("callbacks never overlap").isEqualTo(1);
        try {
            assertThat(closedCalls.get()).as("nothing is called after onClosed: %s", line).isZero();
            lines.add(line);
        } finally {
            inCallback.decrementAndGet();
        }
    }

    @Override
    public void onOpen(HttpResponse.ResponseInfo response) {
        record("open " + response.statusCode());
    }

    @Override
    public void onEvent(SseEvent event) {
        record(Recorder.event(event.type(), event.id(), event.data()));
    }

    @Override
    public void onComment(String comment) {
        record("comment " + Recorder.show(comment));
    }

    @Override
    public void onError(StreamException error) {
        errors.add(error);
        record("error " + error.getClass().getSimpleName());
    }

    @Override
    public void onClosed(Optional<StreamException> failure) {
        record("closed " + failure.map(f -> f.getClass().getSimpleName()).orElse("ok"));
        closedWith = failure;
        closedCalls.incrementAndGet();
    }

    String next() throws InterruptedException {
        String line = lines.poll(10, TimeUnit.SECONDS);
        if (line == null) {
            throw new AssertionError("no callback within 10 s");
        }
        return line;
    }

    void expect(String... expected) throws InterruptedException {
        for (String e : expected) {
            assertThat(next()).isEqualTo(e);
        }
    }

    void expectNothingMore() {
        assertThat(lines).isEmpty();
    }

    int closedCalls() {
        return closedCalls.get();
    }
}
