/**
 * ssekit over async Jakarta Servlet 6: {@link dev.ssekit.servlet.ServletSse#start}.
 */
module dev.ssekit.servlet {
    requires transitive dev.ssekit;
    requires static transitive jakarta.servlet;

    exports dev.ssekit.servlet;
}
