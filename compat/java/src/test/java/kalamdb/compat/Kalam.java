package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.fail;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

// The Flight client classes ship inside the JDBC driver jar, relocated under
// org.apache.arrow.driver.jdbc.shaded; using them needs no extra dependency
// (and cannot clash with the driver's own copy).
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.CallInfo;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.CallStatus;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.FlightClient;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.FlightClientMiddleware;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.CallOption;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.Location;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.memory.RootAllocator;

/**
 * Where the server under test is and how to log in. Each setting is read from a
 * system property first (run.sh passes them to Maven, the pom hands them to
 * surefire), then from the environment.
 *
 * <pre>
 *   kalamdb.host      / KALAMDB_HOST           default 127.0.0.1
 *   kalamdb.port      / KALAMDB_PORT           required (the Flight port)
 *   kalamdb.user      / KALAMDB_USER           default root
 *   kalamdb.password  / KALAMDB_ROOT_PASSWORD  required
 * </pre>
 */
final class Kalam {
  private Kalam() {}

  private static final AtomicInteger SEQ = new AtomicInteger();

  static String setting(String prop, String env, String dflt) {
    String v = System.getProperty(prop);
    if (v == null || v.isBlank()) v = System.getenv(env);
    if (v == null || v.isBlank()) v = dflt;
    if (v == null) {
      fail("set -D" + prop + " or $" + env + " (run compat/java/run.sh to start a server)");
    }
    return v;
  }

  static String host() { return setting("kalamdb.host", "KALAMDB_HOST", "127.0.0.1"); }
  static int port() { return Integer.parseInt(setting("kalamdb.port", "KALAMDB_PORT", null)); }
  static String user() { return setting("kalamdb.user", "KALAMDB_USER", "root"); }
  static String password() { return setting("kalamdb.password", "KALAMDB_ROOT_PASSWORD", null); }

  static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

  /** The URL without credentials. */
  static String baseUrl() {
    return "jdbc:arrow-flight-sql://" + host() + ":" + port() + "?useEncryption=false";
  }

  static String url(String user, String password) {
    return baseUrl() + "&user=" + enc(user) + "&password=" + enc(password);
  }

  static Connection connect() throws SQLException {
    return DriverManager.getConnection(url(user(), password()));
  }

  /** A namespace name no other test (or earlier run on the same data dir) uses. */
  static String uniqueName(String prefix) {
    return (prefix + "_" + Long.toString(System.nanoTime(), 36) + "_" + SEQ.incrementAndGet())
        .toLowerCase(Locale.ROOT);
  }

  /** Creates a fresh namespace with ns.t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE). */
  static String createNamespaceWithTable(Connection c, String prefix) throws SQLException {
    String ns = uniqueName(prefix);
    try (Statement st = c.createStatement()) {
      st.executeUpdate("CREATE NAMESPACE " + ns);
      st.executeUpdate("CREATE SHARED TABLE " + ns + ".t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)");
    }
    return ns;
  }

  /**
   * Performs a Flight handshake with Basic credentials and returns the bearer
   * token the server answers with (the JDBC driver keeps it to itself).
   */
  static String fetchBearerToken() throws Exception {
    AtomicReference<String> token = new AtomicReference<>();
    FlightClientMiddleware.Factory capture = (CallInfo info) -> new FlightClientMiddleware() {
      @Override public void onBeforeSendingHeaders(CallHeaders outgoing) {}

      @Override public void onHeadersReceived(CallHeaders incoming) {
        String v = incoming.get("authorization");
        if (v != null && v.regionMatches(true, 0, "Bearer ", 0, 7)) {
          token.set(v.substring(7).trim());
        }
      }

      @Override public void onCallCompleted(CallStatus status) {}
    };
    try (BufferAllocator alloc = new RootAllocator(Long.MAX_VALUE);
        FlightClient client = FlightClient.builder(alloc, Location.forGrpcInsecure(host(), port()))
            .intercept(capture)
            .build()) {
      client.authenticateBasicToken(user(), password());
    }
    if (token.get() == null || token.get().isEmpty()) {
      fail("the Basic handshake returned no 'authorization: Bearer ...' header");
    }
    return token.get();
  }

  interface FlightSqlCall<T> {
    T run(FlightSqlClient client, CallOption auth) throws Exception;
  }

  /**
   * Runs fn with a Flight SQL client (the one inside the driver jar) logged in
   * with Basic credentials; auth carries the bearer token to every call.
   */
  static <T> T withFlightSql(FlightSqlCall<T> fn) throws Exception {
    try (BufferAllocator alloc = new RootAllocator(Long.MAX_VALUE);
        FlightClient client = FlightClient.builder(alloc, Location.forGrpcInsecure(host(), port())).build()) {
      CallOption auth = client.authenticateBasicToken(user(), password())
          .orElseThrow(() -> new AssertionError("the Basic handshake returned no bearer token"));
      try (FlightSqlClient sql = new FlightSqlClient(client)) {
        return fn.run(sql, auth);
      }
    }
  }

  /**
   * Creates a fresh namespace with table t through Flight SQL's plain statement
   * update (CommandStatementUpdate), not through JDBC, whose every statement
   * is a prepared one; metadata tests use it so they do not depend on
   * prepared-statement support.
   */
  static String createNamespaceWithTableViaFlightSql(String prefix) throws Exception {
    String ns = uniqueName(prefix);
    withFlightSql((client, auth) -> {
      client.executeUpdate("CREATE NAMESPACE " + ns, auth);
      client.executeUpdate("CREATE SHARED TABLE " + ns + ".t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)", auth);
      return null;
    });
    return ns;
  }
}
