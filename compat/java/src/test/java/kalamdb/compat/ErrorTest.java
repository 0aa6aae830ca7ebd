package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class ErrorTest {

  /** All messages in the exception's cause chain. */
  static String messages(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable e = t; e != null; e = e.getCause()) sb.append(e.getMessage()).append(" | ");
    return sb.toString();
  }

  /**
   * The exception's message without the statement the driver echoes into it
   * ("Error while executing SQL \"<sql>\": <server text>"), so that a check
   * for a word cannot be satisfied by the SQL itself.
   */
  static String serverText(SQLException e, String sql) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    return m.replace(sql, "<sql>");
  }

  @Test
  void syntaxErrorCarriesServerMessage() throws Exception {
    String sql = "SELEC 1 FROMM nowhere";
    try (Connection c = Kalam.connect(); Statement st = c.createStatement()) {
      SQLException e = assertThrows(SQLException.class, () -> {
        try (ResultSet rs = st.executeQuery(sql)) {
          rs.next();
        }
      });
      String text = serverText(e, sql);
      String lower = text.toLowerCase();
      // DuckDB's parser names the problem: 'syntax error at or near "SELEC"'.
      assertTrue(lower.contains("syntax") || lower.contains("parser"),
          "the SQLException message should carry the server's text, got: " + messages(e));
      assertTrue(text.contains("SELEC"), "the message should point at the bad token, got: " + messages(e));

      // The connection stays usable after an error.
      try (ResultSet rs = st.executeQuery("SELECT 1")) {
        assertTrue(rs.next());
        assertEquals(1, rs.getInt(1));
      }
    }
  }

  @Test
  void unknownTableCarriesServerMessage() throws Exception {
    String sql = "SELECT * FROM no_such_ns.no_such_table";
    try (Connection c = Kalam.connect(); Statement st = c.createStatement()) {
      SQLException e = assertThrows(SQLException.class, () -> st.executeQuery(sql).next());
      assertTrue(serverText(e, sql).contains("no_such"),
          "the server's message should name what is missing, got: " + messages(e));
    }
  }

  @Test
  void errorInExecuteUpdateCarriesServerMessage() throws Exception {
    String sql = "INSERT INTO no_such_ns.no_such_table VALUES (1)";
    try (Connection c = Kalam.connect(); Statement st = c.createStatement()) {
      SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate(sql));
      assertTrue(serverText(e, sql).contains("no_such"),
          "the server's message should name what is missing, got: " + messages(e));
    }
  }
}
