package dev.ssekit.servlet;

import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts a stream over a response whose {@link ServletOutputStream} records its callers: servlet
 * output streams are not thread-safe, so two threads inside {@code write}/{@code flush}/{@code
 * close} at once is a defect of the adapter. Hands the connection to the test and returns.
 */
final class RecordingServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient SseOptions options;
    private final transient BlockingQueue<SseConnection> streams;
    /** What two threads did at once: "close() while write(ByteBuffer) was inside", ... */
    final transient List<String> overlaps = new CopyOnWriteArrayList<>();
    /** How many threads are inside the stream now. */
    final transient AtomicInteger inside = new AtomicInteger();
    /** When the last call into the stream began (nanoTime), or 0. */
    final transient AtomicLong enteredAt = new AtomicLong();
    private final transient AtomicLong insideSince = new AtomicLong();

    RecordingServlet(SseOptions options, BlockingQueue<SseConnection> streams) {
        this.options = options;
        this.streams = streams;
    }

    /** @return nanoseconds the current call has been inside the stream, or 0 when none is */
    long insideFor() {
        long since = insideSince.get();
        return inside.get() > 0 && since != 0 ? System.nanoTime() - since : 0;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        ServletOutputStream real = resp.getOutputStream();
        ServletOutputStream recording = new Recording(real);
        HttpServletResponseWrapper wrapped = new HttpServletResponseWrapper(resp) {
            @Override
            public ServletOutputStream getOutputStream() {
                return recording;
            }
        };
        streams.add(ServletSse.start(req, wrapped, options));
    }

    private final class Recording extends ServletOutputStream {
        private final ServletOutputStream out;
        private volatile String current = "";

        Recording(ServletOutputStream out) {
            this.out = out;
        }

        private void enter(String what) {
            long now = System.nanoTime();
            if (inside.incrementAndGet() > 1) {
                overlaps.add(what + " on " + Thread.currentThread() + " while " + current + " was inside");
            } else {
                current = what + " on " + Thread.currentThread();
                insideSince.set(now);
            }
            enteredAt.set(now);
        }

        private void leave() {
            if (inside.decrementAndGet() == 0) {
                insideSince.set(0);
            }
        }

        @Override
        public void write(int b) throws IOException {
            enter("write(int)");
            try {
                out.write(b);
            } finally {
                leave();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            enter("write(byte[])");
            try {
                out.write(b, off, len);
            } finally {
                leave();
            }
        }

        @Override
        public void write(ByteBuffer buffer) throws IOException {
            enter("write(ByteBuffer)");
            try {
                out.write(buffer);
            } finally {
                leave();
            }
        }

        @Override
        public void flush() throws IOException {
            enter("flush()");
            try {
                out.flush();
            } finally {
                leave();
            }
        }

        @Override
        public void close() throws IOException {
            enter("close()");
            try {
                out.close();
            } finally {
                leave();
            }
        }

        @Override
        public boolean isReady() {
            return out.isReady();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            out.setWriteListener(listener);
        }
    }
}
