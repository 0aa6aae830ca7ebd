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
}
