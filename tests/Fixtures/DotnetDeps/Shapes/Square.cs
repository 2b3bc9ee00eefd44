namespace Shapes;

public static class Square
{
    public static int Area(int side) => side * side;
}
