package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class UpdateTest {

  @Test
  void executeUpdateReturnsCounts() throws Exception {
    String ns = Kalam.uniqueName("upd");
    try (Connection c = Kalam.connect(); Statement st = c.createStatement()) {
      int n = st.executeUpdate("CREATE NAMESPACE " + ns);
      assertEquals(0, n, "CREATE NAMESPACE changes no rows");
      n = st.executeUpdate("CREATE SHARED TABLE " + ns + ".t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)");
      assertEquals(0, n, "CREATE SHARED TABLE changes no rows");

      assertEquals(3, st.executeUpdate(
          "INSERT INTO " + ns + ".t VALUES (1,'a',1.5), (2,'b',2.5), (3,'c',3.5)"));
      assertEquals(1, st.executeUpdate("UPDATE " + ns + ".t SET name = 'bb', x = 20.0 WHERE id = 2"));
      assertEquals(2, st.executeUpdate("DELETE FROM " + ns + ".t WHERE id <> 2"));
      assertEquals(0, st.executeUpdate("DELETE FROM " + ns + ".t WHERE id = 999"));

      try (ResultSet rs = st.executeQuery("SELECT id, name, x FROM " + ns + ".t ORDER BY id")) {
        assertTrue(rs.next());
        assertEquals(2L, rs.getLong("id"));
        assertEquals("bb", rs.getString("name"));
        assertEquals(20.0, rs.getDouble("x"), 0.0);
        assertFalse(rs.next(), "only id 2 is left");
      }
    }
  }

  @Test
  void executeWithUpdateReportsUpdateCount() throws Exception {
    try (Connection c = Kalam.connect(); Statement st = c.createStatement()) {
      String ns = Kalam.createNamespaceWithTable(c, "exe");
      // Statement.execute on a DML statement: no result set, an update count.
      boolean hasResultSet = st.execute("INSERT INTO " + ns + ".t VALUES (10,'x',1.0), (11,'y',2.0)");
      assertFalse(hasResultSet, "INSERT yields no result set");
      assertEquals(2, st.getUpdateCount());
    }
  }

  private static long count(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      assertTrue(rs.next());
      return rs.getLong(1);
    }
  }

  @Test
  void sqlTransactionsCommitAndRollBack() throws Exception {
    // The Flight SQL JDBC driver (18.3) accepts setAutoCommit(false) but never opens a
    // Flight SQL transaction, so JDBC users run BEGIN / COMMIT / ROLLBACK as statements:
    // one JDBC connection is one server session.
    try (Connection c = Kalam.connect(); Connection other = Kalam.connect(); Statement st = c.createStatement()) {
      String ns = Kalam.createNamespaceWithTable(c, "txn");
      String q = "SELECT count(*) FROM " + ns + ".t";
      long before = count(other, q);
      st.executeUpdate("BEGIN");
      assertEquals(2, st.executeUpdate("INSERT INTO " + ns + ".t VALUES (100,'p',1.0), (101,'q',2.0)"));
      assertEquals(before + 2, count(c, q), "the transaction reads its own writes");
      assertEquals(before, count(other, q), "others do not see uncommitted writes");
      st.executeUpdate("ROLLBACK");
      assertEquals(before, count(c, q), "rollback discards them");
      st.executeUpdate("BEGIN");
      st.executeUpdate("INSERT INTO " + ns + ".t VALUES (102,'r',3.0)");
      assertEquals(before, count(other, q));
      st.executeUpdate("COMMIT");
      assertEquals(before + 1, count(other, q), "commit publishes them");
    }
  }
}
