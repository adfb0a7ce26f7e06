from lrsgro.cli import main

main()
