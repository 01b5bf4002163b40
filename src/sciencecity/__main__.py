from sciencecity.cli import main

main()
